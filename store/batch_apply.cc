// One apply_batch.lua call (see batch_apply.h).
#include "store/batch_apply.h"

#include <utility>

namespace alliance {

ApplyBatchCall::ApplyBatchCall(const KeyLayout& layout, int partition, std::string_view worker_id,
                               std::string_view erasures_at_read)
    : layout_(layout) {
  write_.script = Script::kApplyBatch;
  write_.partition = partition;
  write_.keys = {layout.Lease(partition), layout.AlertStream(partition),
                 layout.FeedbackStream(partition), layout.ErasureCount(partition)};
  // ARGV[3], the dyad count, is set by Finish.
  write_.args = {std::string(worker_id), std::string(kWorkerGroup), "0",
                 std::string(erasures_at_read)};
}

void ApplyBatchCall::AddDyad(std::string head_key, DyadWrite dyad) {
  const int p = write_.partition;
  write_.keys.push_back(std::move(head_key));
  write_.keys.push_back(layout_.DyadLog(p, dyad.tenant, dyad.therapist, dyad.client));
  write_.keys.push_back(layout_.DyadIndex(p, dyad.tenant));
  std::vector<std::string>& args = write_.args;
  args.push_back(std::to_string(dyad.expected_version));
  args.push_back(std::move(dyad.head));
  args.emplace_back(1, dyad.replace_log ? 'r' : 'a');
  args.push_back(std::move(dyad.log));
  args.push_back(std::move(dyad.index_member));
  args.push_back(std::to_string(dyad.alerts.size()));
  if (!dyad.alerts.empty()) {
    args.emplace_back(dyad.tenant);
    args.emplace_back(dyad.therapist);
    args.emplace_back(dyad.client);
  }
  for (AlertWrite& a : dyad.alerts) {
    args.push_back(std::move(a.alert_id));
    args.emplace_back(a.kind);
    args.emplace_back(a.severity);
    args.push_back(std::move(a.json));
  }
  args.push_back(std::to_string(dyad.entry_ids.size()));
  for (std::string_view id : dyad.entry_ids) args.emplace_back(id);
  args.push_back(std::to_string(dyad.summary.size()));
  if (!dyad.summary.empty()) args.emplace_back(dyad.therapist);
  for (auto& [field, value] : dyad.summary) {
    args.push_back(std::move(field));
    args.push_back(std::to_string(value));
  }
  args.push_back(std::move(dyad.watch));
  args.push_back(std::move(dyad.watch_member));
  summary_keys_.push_back(layout_.DyadSummary(p, dyad.tenant, dyad.therapist, dyad.client));
  summary_keys_.push_back(layout_.TherapistSummary(p, dyad.tenant, dyad.therapist));
  summary_keys_.push_back(layout_.TenantSummary(p, dyad.tenant));
  summary_keys_.push_back(layout_.SummaryTherapists(p, dyad.tenant));
  ++write_.dyads;
}

FencedWrite ApplyBatchCall::Finish(std::span<const std::string> extra_acks,
                                   absl::Duration retention, size_t tag) && {
  write_.args[2] = std::to_string(write_.dyads);
  for (std::string& key : summary_keys_) write_.keys.push_back(std::move(key));
  write_.keys.push_back(layout_.DisengagementWatch(write_.partition));  // last
  write_.args.push_back(std::to_string(extra_acks.size()));
  write_.args.insert(write_.args.end(), extra_acks.begin(), extra_acks.end());
  write_.args.push_back(std::to_string(absl::ToInt64Milliseconds(retention)));
  write_.tag = tag;
  return std::move(write_);
}

}  // namespace alliance
