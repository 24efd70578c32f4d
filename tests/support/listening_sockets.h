// Test fixture support: which local addresses hold a listening TCP socket on a port, read from
// /proc/net/tcp and /proc/net/tcp6, so tests can check what a service really binds (loopback
// or every interface) rather than only that it answers on 127.0.0.1.
#ifndef ALLIANCE_TESTS_SUPPORT_LISTENING_SOCKETS_H_
#define ALLIANCE_TESTS_SUPPORT_LISTENING_SOCKETS_H_

#include <string>
#include <vector>

namespace alliance::testing {

// Addresses ("127.0.0.1", "0.0.0.0", "::", ...) with a socket in LISTEN state on `port`, in
// this network namespace; empty when nothing listens there. IPv4-mapped IPv6 addresses of
// dual-stack sockets are given as IPv4.
std::vector<std::string> ListeningAddresses(int port);

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_SUPPORT_LISTENING_SOCKETS_H_
