// Applying one batch: decode entries, group them by dyad, take each dyad's state from the
// cache or load its record (store/dyad_record_batch.h), apply the new ratings incrementally,
// and write state (a new head, the log's new elements) + index + new alerts + acknowledgements
// with one fenced apply_batch.lua call per partition and slice of dyads
// (store/batch_apply.h), which checks every dyad's version (and so that a cached state is
// current). Each call is sent as soon as its slice is computed (store/fenced_writes.h), so
// Redis runs it while the worker computes the next slice. On a Redis Cluster each call is one
// exchange with the primary of its partition's slot, followed there by WAIT when writes must
// reach replicas.
// Entries that cannot be processed stay pending for later passes and are parked as dead
// letters after --max_attempts deliveries (store/dead_letters.h).
#include "store/batch_apply.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "analytics/therapist_summary.h"
#include "common/log.h"
#include "common/strings.h"
#include "store/dead_letters.h"
#include "store/dyad_record_batch.h"
#include "store/feedback_reads.h"
#include "store/fenced_writes.h"
#include "worker/dyad_state.h"
#include "worker/engagement.h"
#include "worker/record_convert.h"
#include "worker/worker.h"

namespace alliance::worker {
namespace {

// Dyads per apply call (bounds the time Redis spends in one script and the size of one
// command), and calls' worth of dyads awaiting their replies on a single Redis.
constexpr size_t kScriptWindow = 2;
constexpr size_t kDyadsPerScript = 64;

struct DyadWork {
  int partition = 0;
  std::string key;
  std::vector<DecodedFeedback> items;
  DyadState* state = nullptr;  // owned by the cache
  bool record_ok = true;
};

struct Failure {
  int partition = 0;
  const StreamEntry* entry = nullptr;
  std::string reason;
  int64_t attempts = 0;
};

// What a sent call stands for, found again by its tag when its reply arrives.
struct CallInfo {
  // Apply calls: per dyad in the call, the counts to book when it is applied.
  struct Booking {
    int ratings = 0, duplicates = 0, acked = 0;
    std::array<int, 6> alerts_by_kind{};  // index: alliance.v1.AlertKind
    const std::string* dyad_key = nullptr;
  };
  std::vector<Booking> bookings;
  int extra_acks = 0;
  const Failure* failure = nullptr;  // dead-letter calls
};

}  // namespace

absl::Status Worker::ApplyBatch(const Batch& batch) {
  std::vector<DyadWork> dyads;
  absl::flat_hash_map<std::string, size_t> dyad_index;
  std::vector<Failure> failures;
  std::map<int, std::vector<std::string>> ack_only;  // deleted entries: nothing to apply

  for (const auto& [p, entries] : batch) {
    for (const StreamEntry& entry : entries) {
      if (entry.deleted) {
        ack_only[p].push_back(entry.id);
        continue;
      }
      absl::StatusOr<DecodedFeedback> decoded = DecodeFeedback(entry, *registry_);
      if (!decoded.ok()) {
        failures.push_back({p, &entry, std::string(decoded.status().message()), 0});
        continue;
      }
      const analytics::DyadKey& d = decoded->dyad;
      if (layout_.PartitionOf(d.tenant_id, d.therapist_id, d.client_id) != p) {
        failures.push_back({p, &entry, "dyad belongs to another partition", 0});
        continue;
      }
      std::string key = layout_.DyadState(p, d.tenant_id, d.therapist_id, d.client_id);
      auto [it, inserted] = dyad_index.try_emplace(key, dyads.size());
      if (inserted) {
        dyads.emplace_back();
        dyads.back().partition = p;
        dyads.back().key = std::move(key);
      }
      dyads[it->second].items.push_back(*std::move(decoded));
    }
  }

  // The current states: cached, or loaded from the stored records.
  std::vector<size_t> misses;
  for (size_t i = 0; i < dyads.size(); ++i) {
    dyads[i].state = cache_.Find(dyads[i].key);
    if (dyads[i].state == nullptr) misses.push_back(i);
  }
  metrics_->dyad_cache_hits->Increment(static_cast<double>(dyads.size() - misses.size()));
  metrics_->dyad_cache_misses->Increment(static_cast<double>(misses.size()));
  {
    std::vector<DyadAddress> addresses;
    addresses.reserve(misses.size());
    for (size_t i : misses) {
      const analytics::DyadKey& d = dyads[i].items.front().dyad;
      addresses.push_back({dyads[i].partition, d.tenant_id, d.therapist_id, d.client_id});
    }
    auto loaded = ReadStoredDyads(redis_->executor(), layout_, addresses);
    if (!loaded.ok()) return loaded.status();
    const internal::v1::DyadRecord empty;
    for (size_t k = 0; k < misses.size(); ++k) {
      DyadWork& w = dyads[misses[k]];
      const absl::StatusOr<std::optional<StoredDyad>>& stored = (*loaded)[k];
      if (!stored.ok()) {  // DATA_LOSS: not a DyadRecord
        w.record_ok = false;
        continue;
      }
      // Without retention, the first write after a load replaces the log: written under an
      // earlier retention setting, it may still carry an expiry that an append would keep.
      const bool appendable = stored->has_value() && (*stored)->has_log &&
                              config_.data_retention > absl::ZeroDuration();
      w.state = cache_.Insert(
          w.partition, w.key,
          std::make_unique<DyadState>(*registry_, rules_, w.items.front().dyad,
                                      stored->has_value() ? (*stored)->record : empty, appendable));
    }
  }

  // A stored record we cannot read: leave its entries pending as failures, so they end in the
  // dead-letter stream instead of overwriting the record.
  for (DyadWork& w : dyads) {
    if (w.record_ok) continue;
    for (const StreamEntry& e : batch.at(w.partition)) {
      for (const DecodedFeedback& f : w.items) {
        if (f.stream_id == e.id) {
          failures.push_back({w.partition, &e, "stored dyad record is undecodable", 0});
        }
      }
    }
  }

  // Delivery counts of the failing entries (only when there are failures).
  if (!failures.empty()) {
    std::vector<PendingEntryRef> pending;
    pending.reserve(failures.size());
    for (const Failure& f : failures) pending.push_back({f.partition, f.entry->id});
    absl::StatusOr<std::vector<int64_t>> counts =
        DeliveryCounts(redis_->executor(), layout_, pending);
    if (!counts.ok()) return counts.status();
    for (size_t i = 0; i < failures.size(); ++i) failures[i].attempts = (*counts)[i];
  }

  // Every write of the batch; each call is atomic on its own. Calls go out as soon as they
  // are complete, so Redis applies one while the next is computed; replies are awaited only
  // when more than kScriptWindow calls' worth of dyads are in flight (the small calls of live
  // traffic, a few dyads each, do not stop the worker). A state whose write was refused is
  // dropped from the cache; if the round fails midway, the reconnect clears it.
  std::deque<CallInfo> calls;  // by tag
  auto on_reply = [&](const FencedWrite& write, const FencedWriteReply& r) -> absl::Status {
    if (r.lease_lost) {
      LosePartition(write.partition, "write refused");
      return absl::OkStatus();
    }
    const CallInfo& call = calls[write.tag];
    if (write.script == Script::kDeadLetter) {
      if (!r.parked) return absl::OkStatus();
      metrics_->partition[write.partition].dead_letters->Increment();
      metrics_->entries_acked->Increment();
      LogWarning("dead_letter", {{"partition", int64_t{write.partition}},
                                 {"source_id", call.failure->entry->id},
                                 {"reason", call.failure->reason},
                                 {"attempts", call.failure->attempts}});
      return absl::OkStatus();
    }
    metrics_->entries_acked->Increment(call.extra_acks);
    for (size_t d = 0; d < call.bookings.size(); ++d) {
      if (!r.applied[d]) {
        // Someone else wrote the record meanwhile: nothing of this dyad was written or
        // acknowledged; re-read the pending entries and apply them on the fresh record.
        metrics_->version_conflicts->Increment();
        cache_.Erase(*call.bookings[d].dyad_key);
        Partition& part = partitions_[write.partition];
        part.pending_mode = true;
        part.pel_cursor = std::string(1, '0');
        continue;
      }
      const CallInfo::Booking& b = call.bookings[d];
      metrics_->ratings_applied->Increment(b.ratings);
      metrics_->duplicates_skipped->Increment(b.duplicates);
      for (size_t kind = 0; kind < b.alerts_by_kind.size(); ++kind) {
        if (b.alerts_by_kind[kind] > 0) {
          metrics_->AlertsEmitted(static_cast<int>(kind))->Increment(b.alerts_by_kind[kind]);
        }
      }
      metrics_->entries_acked->Increment(b.acked);
    }
    return absl::OkStatus();
  };
  const ReplicaWait wait{target_.wait_replicas, target_.wait_timeout};
  std::optional<FencedWriter> writer;
  if (redis_->cluster()) {
    writer.emplace(*redis_->cluster_client(), redis_->scripts(), wait, on_reply,
                   [this](int p, std::optional<int64_t> replicas) { CheckWait(p, replicas); });
  } else {
    writer.emplace(*redis_->connection(), redis_->scripts(), kScriptWindow * kDyadsPerScript,
                   on_reply);
  }

  absl::Status written = absl::OkStatus();
  std::optional<ApplyBatchCall> open;  // the apply call being filled (dyads come by partition)
  CallInfo open_info;
  // Completes the open apply call with the deleted entries to acknowledge with it, and sends it.
  auto send_open = [&](const std::vector<std::string>* extra) -> absl::Status {
    open_info.extra_acks = extra == nullptr ? 0 : static_cast<int>(extra->size());
    calls.push_back(std::move(open_info));
    open_info = CallInfo{};
    FencedWrite write =
        std::move(*open).Finish(extra == nullptr ? std::span<const std::string>() : *extra,
                                config_.data_retention, calls.size() - 1);
    open.reset();
    return writer->Send(std::move(write));
  };

  google::protobuf::Timestamp now =
      google::protobuf::util::TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(clock_->Now()));
  for (size_t i = 0; i < dyads.size() && written.ok(); ++i) {
    DyadWork& w = dyads[i];
    if (!w.record_ok) continue;
    if (open && (open->partition() != w.partition || open->dyads() >= kDyadsPerScript)) {
      written = send_open(nullptr);
      if (!written.ok()) break;
    }
    // A reply (just now or earlier) may have reported the partition lost, which dropped its
    // states: its remaining entries stay pending for the next owner.
    if (!partitions_[w.partition].owned) continue;
    if (!open) {
      open.emplace(layout_, w.partition, config_.worker_id,
                   partitions_[w.partition].erasures_at_read);
    }
    const analytics::DyadKey& d = w.items.front().dyad;
    const int64_t version = w.state->version();
    DyadState::Update update = w.state->Apply(w.items, now);
    DyadWrite write;
    write.tenant = d.tenant_id;
    write.therapist = d.therapist_id;
    write.client = d.client_id;
    write.expected_version = version;
    write.head = std::move(update.head);
    write.replace_log = update.replace_log;
    write.log = std::move(update.log);
    // The index member is added with the first write of the record; later writes skip it.
    if (update.changed && version == 0) {
      write.index_member = absl::StrCat(d.therapist_id, ":", d.client_id);
    }
    if (update.changed && update.watch_changed) {
      write.watch = update.disengagement_due_ms.has_value()
                        ? absl::StrCat(*update.disengagement_due_ms)
                        : std::string(1, '-');
      write.watch_member = WatchMember(d);
    }
    write.alerts.reserve(update.new_alerts.size());
    std::array<int, 6> alerts_by_kind{};
    for (const alliance::v1::Alert& a : update.new_alerts) {
      write.alerts.push_back(
          {a.alert_id(), AlertKindName(a.kind()), SeverityName(a.severity()), AlertJson(a)});
      const int kind = static_cast<int>(a.kind());
      ++alerts_by_kind[kind >= 0 && kind < 6 ? static_cast<size_t>(kind) : 0];
    }
    // The dyad's contribution to the therapist summaries, replaced in the same script.
    if (update.changed) {
      write.summary = analytics::ContributionFields(analytics::ContributionOf(w.state->analysis()));
    }
    write.entry_ids.reserve(w.items.size());
    for (const DecodedFeedback& f : w.items) write.entry_ids.push_back(f.stream_id);
    open->AddDyad(w.key, std::move(write));
    open_info.bookings.push_back({update.ratings_added, update.duplicates,
                                  static_cast<int>(w.items.size()), alerts_by_kind, &w.key});
  }
  // The last apply call, and the deleted entries of each partition, acknowledged with that
  // partition's last call (or a call of their own).
  if (written.ok() && open) {
    auto extra = ack_only.find(open->partition());
    const std::vector<std::string>* ids = extra == ack_only.end() ? nullptr : &extra->second;
    written = send_open(ids);
    if (extra != ack_only.end()) ack_only.erase(extra);
  }
  for (auto& [p, ids] : ack_only) {
    if (!written.ok()) break;
    open.emplace(layout_, p, config_.worker_id, partitions_[p].erasures_at_read);
    written = send_open(&ids);
  }

  for (const Failure& f : failures) {
    if (!written.ok()) break;
    metrics_->processing_failures->Increment();
    if (f.attempts == 0) continue;  // no longer pending for us (acked or claimed meanwhile)
    if (f.attempts < config_.max_attempts) {
      Partition& part = partitions_[f.partition];
      if (!part.pending_mode) {
        part.pending_mode = true;
        part.pel_cursor = std::string(1, '0');
      }
      part.pass_had_failures = true;
      continue;
    }
    calls.push_back(CallInfo{{}, 0, &f});
    written = writer->Send(ParkDeadLetter(layout_, f.partition, config_.worker_id, *f.entry,
                                          f.reason, f.attempts, calls.size() - 1));
  }
  if (written.ok()) written = writer->Finish();
  // A single Redis: one WAIT covers every write of the batch (all on this connection).
  if (written.ok() && wait.replicas > 0 && !redis_->cluster()) {
    absl::StatusOr<std::optional<int64_t>> replicas = WaitForReplicas(*redis_->connection(), wait);
    if (!replicas.ok()) return replicas.status();
    for (const auto& [p, entries] : batch) CheckWait(p, *replicas);
  }
  cache_.Trim();
  return written;
}

}  // namespace alliance::worker
