// gRPC health of the process: "" and the service name are SERVING while Redis answers and the
// process is not shutting down; "liveness" is always SERVING (the process is alive).
#ifndef ALLIANCE_SERVICES_INSIGHTS_HEALTH_H_
#define ALLIANCE_SERVICES_INSIGHTS_HEALTH_H_

#include <grpcpp/grpcpp.h>

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace alliance::insights {

inline constexpr char kServiceName[] = "alliance.v1.AllianceInsights";

class HealthPublisher {
 public:
  // Publishes the current state on `server` now and on every change.
  void AddServer(grpc::Server* server);
  void SetRedisOk(bool ok);
  void SetShuttingDown();

 private:
  void PublishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::vector<grpc::Server*> servers_ ABSL_GUARDED_BY(mu_);
  bool redis_ok_ ABSL_GUARDED_BY(mu_) = false;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_HEALTH_H_
