// /proc/net/tcp{,6} parsing behind listening_sockets.h.
#include "tests/support/listening_sockets.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace alliance::testing {
namespace {

constexpr char kListenState[] = "0A";  // TCP_LISTEN in the kernel's hex notation

// "0100007F" (IPv4) or 32 hex digits (IPv6): the kernel prints each 32-bit word of the address
// as it lies in memory, so the words go back into memory unchanged.
std::string AddressFromHex(const std::string& hex) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (hex.size() == 8) {
    in_addr address{};
    address.s_addr = static_cast<uint32_t>(std::strtoul(hex.c_str(), nullptr, 16));
    inet_ntop(AF_INET, &address, text, sizeof text);
  } else if (hex.size() == 32) {
    in6_addr address{};
    for (int word = 0; word < 4; ++word) {
      address.s6_addr32[word] =
          static_cast<uint32_t>(std::strtoul(hex.substr(8 * word, 8).c_str(), nullptr, 16));
    }
    if (IN6_IS_ADDR_V4MAPPED(&address)) {
      // gRPC binds IPv4 addresses on dual-stack sockets: ::ffff:127.0.0.1 is 127.0.0.1.
      inet_ntop(AF_INET, &address.s6_addr[12], text, sizeof text);
    } else {
      inet_ntop(AF_INET6, &address, text, sizeof text);
    }
  }
  return text;
}

void Collect(const char* table, int port, std::vector<std::string>& out) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    if (!(fields >> slot >> local >> remote >> state)) continue;
    size_t colon = local.find(':');
    if (colon == std::string::npos || state != kListenState) continue;
    if (std::strtol(local.c_str() + colon + 1, nullptr, 16) != port) continue;
    out.push_back(AddressFromHex(local.substr(0, colon)));
  }
}

}  // namespace

std::vector<std::string> ListeningAddresses(int port) {
  std::vector<std::string> out;
  Collect("/proc/net/tcp", port, out);
  Collect("/proc/net/tcp6", port, out);
  return out;
}

}  // namespace alliance::testing
