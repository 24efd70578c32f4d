// The disengagement timer (docs/worker.md, "Disengagement"): each maintenance round reads the
// owned partitions' due members of the disengagement watch (store/disengagement_watch.h), at
// most kDuePerPartition each, takes each dyad's state from the cache or its stored record,
// evaluates it at the clock's now (DyadState::EvaluateEngagement) and writes what that gives
// (a new version with the disengagement alert, or nothing) together with the member's new
// score or its removal, through the same fenced, version-checked apply script as ratings
// (store/batch_apply.h). Ids are deterministic and the record keeps every raised id, so a
// round repeated after a failure, a restart or a takeover never emits an alert twice.
#include <google/protobuf/util/time_util.h>

#include <deque>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "store/batch_apply.h"
#include "store/disengagement_watch.h"
#include "store/dyad_record_batch.h"
#include "store/fenced_writes.h"
#include "worker/dyad_state.h"
#include "worker/engagement.h"
#include "worker/record_convert.h"
#include "worker/worker.h"

namespace alliance::worker {
namespace {

// Bounds a round's work (and the time Redis spends in one apply call) however many dyads fell
// due at once; the rest are due in the next round.
constexpr int kDuePerPartition = 64;

struct DueDyad {
  int partition = 0;
  analytics::DyadKey dyad;
  std::string member;
  std::string key;  // KeyLayout::DyadState
  DyadState* state = nullptr;
  bool record_ok = true;
};

}  // namespace

absl::Status Worker::EvaluateDueDisengagements(const std::vector<int>& owned) {
  if (owned.empty()) return absl::OkStatus();
  const absl::Time now = clock_->Now();
  absl::StatusOr<std::vector<std::vector<std::string>>> due = DueDisengagements(
      redis_->executor(), layout_, owned, absl::ToUnixMillis(now), kDuePerPartition);
  if (!due.ok()) return due.status();
  std::vector<DueDyad> dyads;
  for (size_t i = 0; i < owned.size(); ++i) {
    for (std::string& member : (*due)[i]) {
      DueDyad d;
      d.partition = owned[i];
      std::optional<analytics::DyadKey> key = ParseWatchMember(member);
      if (key.has_value()) d.dyad = *std::move(key);
      d.member = std::move(member);
      d.record_ok = key.has_value();  // an unreadable member is only removed
      d.key =
          layout_.DyadState(d.partition, d.dyad.tenant_id, d.dyad.therapist_id, d.dyad.client_id);
      dyads.push_back(std::move(d));
    }
  }
  if (dyads.empty()) return absl::OkStatus();

  // States: cached, or loaded from the stored records (as ApplyBatch does).
  std::vector<size_t> misses;
  for (size_t i = 0; i < dyads.size(); ++i) {
    if (!dyads[i].record_ok) continue;
    dyads[i].state = cache_.Find(dyads[i].key);
    if (dyads[i].state == nullptr) misses.push_back(i);
  }
  std::vector<DyadAddress> addresses;
  for (size_t i : misses) {
    const analytics::DyadKey& d = dyads[i].dyad;
    addresses.push_back({dyads[i].partition, d.tenant_id, d.therapist_id, d.client_id});
  }
  auto loaded = ReadStoredDyads(redis_->executor(), layout_, addresses);
  if (!loaded.ok()) return loaded.status();
  for (size_t k = 0; k < misses.size(); ++k) {
    DueDyad& w = dyads[misses[k]];
    const absl::StatusOr<std::optional<StoredDyad>>& stored = (*loaded)[k];
    if (!stored.ok() || !stored->has_value()) {
      w.record_ok = false;  // erased, expired or unreadable: nothing to watch
      continue;
    }
    const bool appendable = (*stored)->has_log && config_.data_retention > absl::ZeroDuration();
    w.state = cache_.Insert(
        w.partition, w.key,
        std::make_unique<DyadState>(*registry_, rules_, w.dyad, (*stored)->record, appendable));
  }

  // By tag: the dyads of each call, with the alerts each would emit by kind.
  std::deque<std::vector<std::pair<const DueDyad*, std::array<int, 6>>>> calls;
  auto on_reply = [&](const FencedWrite& write, const FencedWriteReply& r) -> absl::Status {
    if (r.lease_lost) {
      LosePartition(write.partition, "write refused");
      return absl::OkStatus();
    }
    const auto& sent = calls[write.tag];
    for (size_t d = 0; d < sent.size(); ++d) {
      if (!r.applied[d]) {
        // A rating was applied meanwhile: the next round evaluates the new record.
        metrics_->version_conflicts->Increment();
        cache_.Erase(sent[d].first->key);
        continue;
      }
      const std::array<int, 6>& counts = sent[d].second;
      for (size_t kind = 0; kind < counts.size(); ++kind) {
        if (counts[kind] > 0) {
          metrics_->AlertsEmitted(static_cast<int>(kind))->Increment(counts[kind]);
        }
      }
    }
    return absl::OkStatus();
  };
  const ReplicaWait wait{target_.wait_replicas, target_.wait_timeout};
  std::optional<FencedWriter> writer;
  if (redis_->cluster()) {
    writer.emplace(*redis_->cluster_client(), redis_->scripts(), wait, on_reply,
                   [this](int p, std::optional<int64_t> replicas) { CheckWait(p, replicas); });
  } else {
    writer.emplace(*redis_->connection(), redis_->scripts(), dyads.size(), on_reply);
  }
  const google::protobuf::Timestamp stamp =
      google::protobuf::util::TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(now));
  absl::Status written = absl::OkStatus();
  size_t i = 0;
  while (i < dyads.size() && written.ok()) {
    const int p = dyads[i].partition;
    ApplyBatchCall call(layout_, p, config_.worker_id, partitions_[p].erasures_at_read);
    std::vector<std::pair<const DueDyad*, std::array<int, 6>>> in_call;
    for (; i < dyads.size() && dyads[i].partition == p; ++i) {
      const DueDyad& w = dyads[i];
      std::array<int, 6> counts{};
      DyadWrite write;
      write.tenant = w.dyad.tenant_id;
      write.therapist = w.dyad.therapist_id;
      write.client = w.dyad.client_id;
      write.watch_member = w.member;
      if (!w.record_ok) {
        // Expected version 0 matches a missing record; nothing but the removal is written.
        write.watch.push_back('-');
      } else {
        write.expected_version = w.state->version();
        DyadState::Update update = w.state->EvaluateEngagement(stamp);
        // Always re-score or remove: the member was due, and must not stay due.
        write.watch = update.disengagement_due_ms.has_value()
                          ? absl::StrCat(*update.disengagement_due_ms)
                          : std::string(1, '-');
        if (update.changed) {
          write.head = std::move(update.head);
          write.replace_log = update.replace_log;
          write.log = std::move(update.log);
          for (const alliance::v1::Alert& a : update.new_alerts) {
            write.alerts.push_back(
                {a.alert_id(), AlertKindName(a.kind()), SeverityName(a.severity()), AlertJson(a)});
            const int kind = static_cast<int>(a.kind());
            ++counts[kind >= 0 && kind < 6 ? static_cast<size_t>(kind) : 0];
            LogInfo("disengagement", {{"partition", int64_t{p}}, {"alert_id", a.alert_id()}});
          }
        }
      }
      call.AddDyad(w.key, std::move(write));
      in_call.emplace_back(&w, counts);
    }
    calls.push_back(std::move(in_call));
    written = writer->Send(std::move(call).Finish({}, config_.data_retention, calls.size() - 1));
  }
  if (written.ok()) written = writer->Finish();
  if (written.ok() && wait.replicas > 0 && !redis_->cluster()) {
    absl::StatusOr<std::optional<int64_t>> replicas = WaitForReplicas(*redis_->connection(), wait);
    if (!replicas.ok()) return replicas.status();
    for (int p : owned) CheckWait(p, *replicas);
  }
  return written;
}

}  // namespace alliance::worker
