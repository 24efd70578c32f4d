// Listening flags of alliance-intake and the bare benchmark server.
#include "services/intake/server_options.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/server_transport.h"

// Loopback unless asked, so a binary started by hand exposes nothing; containers set 0.0.0.0.
ABSL_FLAG(std::string, listen_host, "127.0.0.1",
          "Address the gRPC, health and metrics ports bind to; 0.0.0.0 for every interface.");
ABSL_FLAG(int32_t, grpc_port, 50051, "gRPC port.");

namespace alliance::intake {

absl::Status ValidateServerOptionFlags() {
  if (absl::Status s = ValidateServerTransportFlags(); !s.ok()) return s;
  int port = absl::GetFlag(FLAGS_grpc_port);
  if (port < 0 || port > 65535) return absl::InvalidArgumentError("--grpc_port must be 0..65535");
  return absl::OkStatus();
}

std::string ListenAddress(const std::string& host, int port) {
  if (host.find(':') != std::string::npos && host.front() != '[') {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

}  // namespace alliance::intake
