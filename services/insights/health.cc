// Health status publishing on the main and the plaintext health servers.
#include "services/insights/health.h"

#include "common/log.h"

namespace alliance::insights {

void HealthPublisher::AddServer(grpc::Server* server) {
  absl::MutexLock lock(&mu_);
  servers_.push_back(server);
  PublishLocked();
}

void HealthPublisher::SetRedisOk(bool ok) {
  absl::MutexLock lock(&mu_);
  if (ok != redis_ok_) LogInfo(ok ? "redis_reachable" : "redis_unreachable");
  redis_ok_ = ok;
  PublishLocked();
}

void HealthPublisher::SetShuttingDown() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  PublishLocked();
}

void HealthPublisher::PublishLocked() {
  bool serving = redis_ok_ && !shutting_down_;
  for (grpc::Server* server : servers_) {
    grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
    if (health == nullptr) continue;
    health->SetServingStatus("", serving);
    health->SetServingStatus(kServiceName, serving);
    health->SetServingStatus("liveness", true);
  }
}

}  // namespace alliance::insights
