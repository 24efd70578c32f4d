// gRPC health service of the worker (it serves no other RPC): service "" follows Redis
// reachability, "liveness" is SERVING while the process runs.
#ifndef ALLIANCE_WORKER_HEALTH_SERVER_H_
#define ALLIANCE_WORKER_HEALTH_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/status/status.h"

namespace alliance::worker {

class HealthServer {
 public:
  // Port 0: no server; SetRedisUp is then a no-op.
  absl::Status Start(int port);
  void SetRedisUp(bool up);
  void Stop();

 private:
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_HEALTH_SERVER_H_
