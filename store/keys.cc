// Key names of the layout in keys.h.
#include "store/keys.h"

#include "absl/strings/str_cat.h"
#include "analytics/hash.h"
#include "common/strings.h"

namespace alliance {

int KeyLayout::PartitionOf(std::string_view tenant_id, std::string_view therapist_id,
                           std::string_view client_id) const {
  return static_cast<int>(analytics::Fnv1a64({tenant_id, therapist_id, client_id}) %
                          static_cast<uint64_t>(partitions_));
}

std::string KeyLayout::PartitionPrefix(int partition) const {
  return absl::StrCat(prefix_, ":{p", partition, "}");
}
std::string KeyLayout::FeedbackStream(int partition) const {
  return absl::StrCat(PartitionPrefix(partition), ":feedback");
}
std::string KeyLayout::AlertStream(int partition) const {
  return absl::StrCat(PartitionPrefix(partition), ":alerts");
}
std::string KeyLayout::DeadLetterStream(int partition) const {
  return absl::StrCat(PartitionPrefix(partition), ":deadletter");
}
std::string KeyLayout::Lease(int partition) const {
  return absl::StrCat(PartitionPrefix(partition), ":lease");
}
std::string KeyLayout::ErasureCount(int partition) const {
  return absl::StrCat(PartitionPrefix(partition), ":erasures");
}
std::string KeyLayout::Idempotency(int partition, std::string_view tenant_id,
                                   std::string_view idempotency_id) const {
  return absl::StrCat(PartitionPrefix(partition), ":idem:", Absl(tenant_id), ":",
                      Absl(idempotency_id));
}
std::string KeyLayout::DyadState(int partition, std::string_view tenant_id,
                                 std::string_view therapist_id, std::string_view client_id) const {
  return absl::StrCat(PartitionPrefix(partition), ":dyad:", Absl(tenant_id), ":",
                      Absl(therapist_id), ":", Absl(client_id));
}
std::string KeyLayout::DyadLog(int partition, std::string_view tenant_id,
                               std::string_view therapist_id, std::string_view client_id) const {
  return absl::StrCat(DyadState(partition, tenant_id, therapist_id, client_id), ":log");
}
std::string KeyLayout::DyadIndex(int partition, std::string_view tenant_id) const {
  return absl::StrCat(PartitionPrefix(partition), ":dyads:", Absl(tenant_id));
}
std::string KeyLayout::DyadSummary(int partition, std::string_view tenant_id,
                                   std::string_view therapist_id,
                                   std::string_view client_id) const {
  return absl::StrCat(DyadState(partition, tenant_id, therapist_id, client_id), ":summary");
}
std::string KeyLayout::TherapistSummary(int partition, std::string_view tenant_id,
                                        std::string_view therapist_id) const {
  return absl::StrCat(PartitionPrefix(partition), ":therapistsum:", Absl(tenant_id), ":",
                      Absl(therapist_id));
}
std::string KeyLayout::TenantSummary(int partition, std::string_view tenant_id) const {
  return absl::StrCat(PartitionPrefix(partition), ":tenantsum:", Absl(tenant_id));
}
std::string KeyLayout::SummaryTherapists(int partition, std::string_view tenant_id) const {
  return absl::StrCat(PartitionPrefix(partition), ":therapists:", Absl(tenant_id));
}
std::string KeyLayout::DisengagementWatch(int partition) const {
  return absl::StrCat(PartitionPrefix(partition), ":disengagement");
}
std::string KeyLayout::AlertStatus(std::string_view tenant_id, std::string_view alert_id) const {
  return absl::StrCat(prefix_, ":alertstatus:", Absl(tenant_id), ":", Absl(alert_id));
}

std::string KeyLayout::WorkerMembers() const { return absl::StrCat(prefix_, ":workers"); }

std::string KeyLayout::PartitionCount() const { return absl::StrCat(prefix_, ":partitions"); }

std::string KeyLayout::DashboardSession(std::string_view token_sha256) const {
  return absl::StrCat(prefix_, ":session:", Absl(token_sha256));
}

}  // namespace alliance
