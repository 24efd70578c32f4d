// The one health implementation of every Alliance binary (intake, insights and the worker's
// health port): what grpc.health.v1 answers per service name. "liveness" is SERVING while the
// process runs, so a liveness probe never restarts a pod because Redis is down; "" (overall,
// what readiness probes ask) and each service name the binary names (e.g.
// "alliance.v1.FeedbackIntake") start NOT_SERVING, follow what the binary reports (Redis
// reachable or not), and are NOT_SERVING for good once a shutdown starts.
#ifndef ALLIANCE_COMMON_HEALTH_PUBLISHER_H_
#define ALLIANCE_COMMON_HEALTH_PUBLISHER_H_

#include <grpcpp/health_check_service_interface.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace alliance {

inline constexpr char kLivenessServiceName[] = "liveness";

class HealthPublisher {
 public:
  // `services`: the names that follow readiness besides "" (may be empty: the worker).
  explicit HealthPublisher(std::vector<std::string> services = {});

  // Publishes on `service` (owned by a server; the main server and the plaintext health
  // server each have one) now and on every change. Call before the server shuts down.
  void Attach(grpc::HealthCheckServiceInterface* service);

  // Every readiness name ("" and the services) SERVING or not: e.g. Redis reachable.
  void SetServing(bool serving);
  // One name SERVING or not; "" is overall. A name not given at construction is added.
  void SetServing(std::string_view service, bool serving);
  // Every name but "liveness" NOT_SERVING from now on; later SetServing calls are ignored.
  void SetShuttingDown();

  bool IsServing(std::string_view service) const;
  bool shutting_down() const;

 private:
  void PublishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<grpc::HealthCheckServiceInterface*> targets_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, bool, std::less<>> serving_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace alliance

#endif  // ALLIANCE_COMMON_HEALTH_PUBLISHER_H_
