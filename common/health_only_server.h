// The plaintext server of a service's health port: grpc.health.v1.Health and nothing else (no
// product RPCs, no reflection), with the same transport limits as the main port, so that
// probes need no certificates and the port shows nothing of the API.
#ifndef ALLIANCE_COMMON_HEALTH_ONLY_SERVER_H_
#define ALLIANCE_COMMON_HEALTH_ONLY_SERVER_H_

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "absl/status/status.h"

namespace alliance {

class HealthOnlyServer {
 public:
  // Listens on `address` ("host:port"; port 0 picks a free one). The process must have enabled
  // gRPC's default health service (grpc::EnableDefaultHealthCheckService) before. UNAVAILABLE
  // naming the address when it cannot listen.
  absl::Status Start(const std::string& address);
  // Calls in flight get until `deadline` to finish.
  void Shutdown(absl::Time deadline);

  // The server's health service, to publish statuses on; nullptr before Start.
  grpc::Server* server() const { return server_.get(); }
  int port() const { return port_; }

 private:
  // gRPC adds the default health service only once a server starts, and refuses to start a
  // server without any service: an empty generic service (UNIMPLEMENTED for every other
  // method) fills that gap.
  grpc::CallbackGenericService no_api_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace alliance

#endif  // ALLIANCE_COMMON_HEALTH_ONLY_SERVER_H_
