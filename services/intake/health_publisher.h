// Publishes the intake's health to the gRPC health service: "" and "alliance.v1.FeedbackIntake"
// follow Redis reachability (NOT_SERVING while no writer is connected, and from the start of a
// shutdown); "liveness" is always SERVING so a Kubernetes liveness probe never restarts a pod
// because Redis is down.
#ifndef ALLIANCE_SERVICES_INTAKE_HEALTH_PUBLISHER_H_
#define ALLIANCE_SERVICES_INTAKE_HEALTH_PUBLISHER_H_

#include <grpcpp/health_check_service_interface.h>

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace alliance::intake {

inline constexpr char kIntakeServiceName[] = "alliance.v1.FeedbackIntake";
inline constexpr char kLivenessServiceName[] = "liveness";

class HealthPublisher {
 public:
  // Starts publishing to `service` (owned by a server; the gRPC server and the plaintext
  // health server each have one); applies the state known so far.
  void Attach(grpc::HealthCheckServiceInterface* service);
  void SetRedisUp(bool up);
  void SetShuttingDown();

 private:
  void Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::vector<grpc::HealthCheckServiceInterface*> services_ ABSL_GUARDED_BY(mu_);
  bool redis_up_ ABSL_GUARDED_BY(mu_) = false;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_HEALTH_PUBLISHER_H_
