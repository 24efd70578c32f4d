// Counting of watch slots per API key and per tenant (see watch_quota.h).
#include "services/insights/watch_quota.h"

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace alliance::insights {

WatchSlot& WatchSlot::operator=(WatchSlot&& other) noexcept {
  if (this != &other) {
    Release();
    quota_ = other.quota_;
    key_id_ = std::move(other.key_id_);
    tenant_ = std::move(other.tenant_);
    other.quota_ = nullptr;
  }
  return *this;
}

void WatchSlot::Release() {
  if (quota_ == nullptr) return;
  quota_->Release(key_id_, tenant_);
  quota_ = nullptr;
}

absl::StatusOr<WatchSlot> WatchQuota::Acquire(std::string_view key_id, std::string_view tenant,
                                              std::string_view* refused_by) {
  absl::MutexLock lock(&mu_);
  if (!key_id.empty()) {
    auto it = per_key_.find(Absl(key_id));
    if (it != per_key_.end() && it->second >= limits_.per_key) {
      *refused_by = kPerKey;
      return absl::ResourceExhaustedError(
          absl::StrCat("this API key already has ", limits_.per_key,
                       " open watch streams on this server, its limit; close one first"));
    }
  }
  auto it = per_tenant_.find(Absl(tenant));
  if (it != per_tenant_.end() && it->second >= limits_.per_tenant) {
    *refused_by = kPerTenant;
    return absl::ResourceExhaustedError(
        absl::StrCat("this tenant already has ", limits_.per_tenant,
                     " open watch streams on this server, its limit; close one first"));
  }
  if (!key_id.empty()) ++per_key_[std::string(key_id)];
  ++per_tenant_[std::string(tenant)];
  WatchSlot slot;
  slot.quota_ = this;
  slot.key_id_ = std::string(key_id);
  slot.tenant_ = std::string(tenant);
  return slot;
}

void WatchQuota::Release(const std::string& key_id, const std::string& tenant) {
  absl::MutexLock lock(&mu_);
  if (!key_id.empty()) {
    auto it = per_key_.find(Absl(key_id));
    if (it != per_key_.end() && --it->second <= 0) per_key_.erase(it);
  }
  auto it = per_tenant_.find(Absl(tenant));
  if (it != per_tenant_.end() && --it->second <= 0) per_tenant_.erase(it);
}

}  // namespace alliance::insights
