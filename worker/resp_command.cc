// Encoding commands in the Redis protocol (see resp_command.h).
#include "worker/resp_command.h"

#include <charconv>

namespace alliance::worker {

void RespCommand::Begin(size_t argc, size_t payload_bytes) {
  buffer_.clear();
  // Per argument: "$", up to 10 digits, and two line ends.
  buffer_.reserve(16 + payload_bytes + 16 * argc);
  Header('*', argc);
}

void RespCommand::Arg(std::string_view arg) {
  Header('$', arg.size());
  buffer_.append(arg);
  buffer_.append("\r\n", 2);
}

void RespCommand::Header(char kind, size_t n) {
  char text[24];
  text[0] = kind;
  char* end = std::to_chars(text + 1, text + sizeof text - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  buffer_.append(text, static_cast<size_t>(end - text));
}

}  // namespace alliance::worker
