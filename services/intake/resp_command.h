// Encodes one Redis command in RESP (an array of bulk strings) into a caller-owned buffer, for
// RedisConnection::AppendFormatted. The writer builds one EVALSHA per partition and flush with
// a dozen arguments per submission; this avoids hiredis's printf per argument and the argv
// vectors of RedisConnection::Append.
#ifndef ALLIANCE_SERVICES_INTAKE_RESP_COMMAND_H_
#define ALLIANCE_SERVICES_INTAKE_RESP_COMMAND_H_

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>

namespace alliance::intake {

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

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_RESP_COMMAND_H_
