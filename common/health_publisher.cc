// Health status bookkeeping and publishing; see health_publisher.h.
#include "common/health_publisher.h"

#include <utility>

#include "common/log.h"

namespace alliance {

HealthPublisher::HealthPublisher(std::vector<std::string> services) {
  serving_.emplace("", false);
  for (std::string& name : services) serving_.emplace(std::move(name), false);
}

void HealthPublisher::Attach(grpc::HealthCheckServiceInterface* service) {
  if (service == nullptr) return;
  absl::MutexLock lock(&mu_);
  targets_.push_back(service);
  service->SetServingStatus(kLivenessServiceName, true);
  PublishLocked();
}

void HealthPublisher::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return;
  bool changed = false;
  for (auto& [name, state] : serving_) {
    changed = changed || state != serving;
    state = serving;
  }
  if (!changed) return;
  LogInfo("health", {{"serving", serving}});
  PublishLocked();
}

void HealthPublisher::SetServing(std::string_view service, bool serving) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return;
  auto it = serving_.find(service);
  if (it == serving_.end()) it = serving_.emplace(std::string(service), !serving).first;
  if (it->second == serving) return;
  it->second = serving;
  LogInfo("health", {{"service", service}, {"serving", serving}});
  PublishLocked();
}

void HealthPublisher::SetShuttingDown() {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return;
  shutting_down_ = true;
  for (auto& [name, state] : serving_) state = false;
  LogInfo("health", {{"serving", false}, {"shutting_down", true}});
  PublishLocked();
}

bool HealthPublisher::IsServing(std::string_view service) const {
  absl::MutexLock lock(&mu_);
  if (service == kLivenessServiceName) return true;
  auto it = serving_.find(service);
  return it != serving_.end() && it->second;
}

bool HealthPublisher::shutting_down() const {
  absl::MutexLock lock(&mu_);
  return shutting_down_;
}

void HealthPublisher::PublishLocked() {
  for (grpc::HealthCheckServiceInterface* target : targets_) {
    for (const auto& [name, state] : serving_) target->SetServingStatus(name, state);
  }
}

}  // namespace alliance
