// Health status bookkeeping; see health_publisher.h.
#include "services/intake/health_publisher.h"

#include "common/log.h"

namespace alliance::intake {

void HealthPublisher::Attach(grpc::HealthCheckServiceInterface* service) {
  absl::MutexLock lock(&mu_);
  services_.push_back(service);
  service->SetServingStatus(kLivenessServiceName, true);
  Publish();
}

void HealthPublisher::SetRedisUp(bool up) {
  absl::MutexLock lock(&mu_);
  redis_up_ = up;
  Publish();
}

void HealthPublisher::SetShuttingDown() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  Publish();
}

void HealthPublisher::Publish() {
  bool serving = redis_up_ && !shutting_down_;
  LogInfo("health",
          {{"serving", serving}, {"redis_up", redis_up_}, {"shutting_down", shutting_down_}});
  for (grpc::HealthCheckServiceInterface* service : services_) {
    service->SetServingStatus("", serving);
    service->SetServingStatus(kIntakeServiceName, serving);
  }
}

}  // namespace alliance::intake
