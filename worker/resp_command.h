// One Redis command encoded in the Redis protocol (an array of bulk strings) in a buffer that
// is reused from command to command. The apply scripts' commands are large (every dyad's whole
// record); encoding them here costs one copy of each argument, where the client library's
// generic formatting costs allocations and a formatted print per argument.
#ifndef ALLIANCE_WORKER_RESP_COMMAND_H_
#define ALLIANCE_WORKER_RESP_COMMAND_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace alliance::worker {

class RespCommand {
 public:
  // Starts a command of `argc` arguments whose bytes add up to about `payload_bytes` (a hint).
  void Begin(size_t argc, size_t payload_bytes = 0);
  void Arg(std::string_view arg);
  // The encoded command so far (valid until the next Begin).
  std::string_view encoded() const { return buffer_; }

 private:
  void Header(char kind, size_t n);
  std::string buffer_;
};

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_RESP_COMMAND_H_
