// gRPC health service of the worker (it serves no other RPC): service "" follows Redis
// reachability, "liveness" is SERVING while the process runs.
#ifndef ALLIANCE_WORKER_HEALTH_SERVER_H_
#define ALLIANCE_WORKER_HEALTH_SERVER_H_

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"

namespace alliance::worker {

class HealthServer {
 public:
  // Listens on host:port (--listen_host, --health_port). Port 0: no server; SetRedisUp is
  // then a no-op.
  absl::Status Start(const std::string& host, int port);
  void SetRedisUp(bool up);
  void Stop();

 private:
  // Answers UNIMPLEMENTED to anything but health checks; registering it gives the server the
  // callback completion queue the health service needs.
  grpc::CallbackGenericService unimplemented_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_HEALTH_SERVER_H_
