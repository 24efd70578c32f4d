// The plaintext server of a binary's health port: grpc.health.v1.Health and nothing else (no
// product RPCs, no reflection), so that probes need no certificates and the port shows nothing
// of the API. The gRPC services start it through common/grpc_server_bootstrap.h, which gives it
// the same transport limits as the main port; the worker, which has no gRPC API, starts it
// directly with gRPC's defaults. What it answers is common/health_publisher.h's.
#ifndef ALLIANCE_COMMON_HEALTH_ONLY_SERVER_H_
#define ALLIANCE_COMMON_HEALTH_ONLY_SERVER_H_

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace alliance {

// "host:port" for a listening port, with IPv6 literals bracketed.
std::string ListenAddress(const std::string& host, int port);

class HealthOnlyServer {
 public:
  // Listens on `address` ("host:port"; port 0 picks a free one), after `configure` (if any)
  // has set the builder's transport options. Enables gRPC's default health service for the
  // process. UNAVAILABLE naming the address when it cannot listen.
  absl::Status Start(const std::string& address,
                     const std::function<void(grpc::ServerBuilder&)>& configure = {});
  // Calls in flight get until `deadline` to finish. Safe to call twice or before Start.
  void Shutdown(absl::Time deadline);

  // The server's health service, to publish statuses on; nullptr before Start.
  grpc::HealthCheckServiceInterface* health() const {
    return server_ == nullptr ? nullptr : server_->GetHealthCheckService();
  }
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
