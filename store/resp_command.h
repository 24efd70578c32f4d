// Encodes Redis commands in RESP (arrays of bulk strings) into a caller-owned buffer, for
// RedisConnection::AppendFormatted (small commands, pipelined) and AppendEncoded (large ones,
// written straight to the socket). Hot paths (intake's EVALSHA per partition and flush, the
// worker's scripts, whose apply calls carry many dyads) avoid hiredis's formatted print per
// argument and the argv vectors of RedisConnection::Append; a buffer reused from command to
// command also avoids the allocations. Commands appended one after another form a pipeline.
#ifndef ALLIANCE_STORE_RESP_COMMAND_H_
#define ALLIANCE_STORE_RESP_COMMAND_H_

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>

namespace alliance {

class RespCommand {
 public:
  explicit RespCommand(std::string* out) : out_(out) {}

  // Starts a command of `argc` arguments; exactly that many Arg calls must follow.
  void Begin(size_t argc) { Header('*', argc); }
  void Arg(std::string_view value) {
    Header('$', value.size());
    out_->append(value);
    out_->append("\r\n", 2);
  }

 private:
  void Header(char kind, size_t n) {
    char buffer[24];
    buffer[0] = kind;
    char* end = std::to_chars(buffer + 1, buffer + sizeof buffer - 2, n).ptr;
    *end++ = '\r';
    *end++ = '\n';
    out_->append(buffer, static_cast<size_t>(end - buffer));
  }

  std::string* out_;
};

}  // namespace alliance

#endif  // ALLIANCE_STORE_RESP_COMMAND_H_
