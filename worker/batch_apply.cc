// Applying one batch: decode entries, group them by dyad, load the dyad records (one
// pipelined round trip), recompute each dyad, and write state + index + new alerts +
// acknowledgement with one fenced, version-checked script per dyad (one pipelined round trip).
// Entries that cannot be processed are retried on later passes and parked as dead letters
// after --max_attempts deliveries.
#include <google/protobuf/util/time_util.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/strings.h"
#include "worker/dyad_update.h"
#include "worker/record_convert.h"
#include "worker/worker.h"

namespace alliance::worker {
namespace {

struct DyadWork {
  int partition = 0;
  std::string key;
  std::vector<DecodedFeedback> items;
  std::vector<std::string> failed_ids;  // entries of this dyad that failed (stay pending)
};

struct Failure {
  int partition = 0;
  const StreamEntry* entry = nullptr;
  std::string reason;
  int64_t attempts = 0;
};

// One queued script call whose arguments must outlive the pipelined send.
struct Call {
  Script script;
  std::vector<std::string> keys;
  std::vector<std::string> args;
};

void Queue(RedisConnection& redis, const ScriptShas& shas, const Call& call) {
  std::vector<std::string_view> keys(call.keys.begin(), call.keys.end());
  std::vector<std::string_view> args(call.args.begin(), call.args.end());
  shas.Append(redis, call.script, keys, args);
}

}  // namespace

absl::Status Worker::ApplyBatch(const Batch& batch) {
  const std::string group(kWorkerGroup);
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
        failures.push_back({p, &entry, std::string(decoded.status().message())});
        continue;
      }
      const analytics::DyadKey& d = decoded->dyad;
      if (layout_.PartitionOf(d.tenant_id, d.therapist_id, d.client_id) != p) {
        failures.push_back({p, &entry, "dyad belongs to another partition"});
        continue;
      }
      std::string key = layout_.DyadState(p, d.tenant_id, d.therapist_id, d.client_id);
      auto [it, inserted] = dyad_index.try_emplace(key, dyads.size());
      if (inserted) dyads.push_back({p, key, {}, {}});
      dyads[it->second].items.push_back(*std::move(decoded));
    }
  }

  // Round trip 1: the current records.
  for (const DyadWork& w : dyads) redis_->Append({"GET", w.key});
  std::vector<internal::v1::DyadRecord> records(dyads.size());
  std::vector<bool> record_ok(dyads.size(), true);
  for (size_t i = 0; i < dyads.size(); ++i) {
    absl::StatusOr<RedisReplyPtr> reply = redis_->GetReply();
    if (!reply.ok()) return reply.status();
    if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
    if ((*reply)->type == REDIS_REPLY_STRING &&
        !records[i].ParseFromArray((*reply)->str, static_cast<int>((*reply)->len))) {
      record_ok[i] = false;
    }
  }

  google::protobuf::Timestamp now = google::protobuf::util::TimeUtil::GetCurrentTime();
  std::vector<Call> calls;
  struct Outcome {
    int partition;
    int kind;  // 0 dyad, 1 dead letter, 2 ack only
    int ratings = 0;
    int duplicates = 0;
    int alerts = 0;
    int acked = 0;
  };
  std::vector<Outcome> outcomes;

  for (size_t i = 0; i < dyads.size(); ++i) {
    DyadWork& w = dyads[i];
    if (!record_ok[i]) {
      // A stored record we cannot read: leave its entries pending and count them as failures,
      // so they end in the dead-letter stream instead of overwriting the record.
      for (const StreamEntry& e : batch.at(w.partition)) {
        for (const DecodedFeedback& f : w.items) {
          if (f.stream_id == e.id) {
            failures.push_back({w.partition, &e, "stored dyad record is undecodable"});
          }
        }
      }
      continue;
    }
    const analytics::DyadKey& d = w.items.front().dyad;
    DyadUpdate update = UpdateDyad(*registry_, rules_, d, records[i], w.items, now);
    Call call{Script::kApplyDyad,
              {layout_.Lease(w.partition), w.key, layout_.DyadIndex(w.partition, d.tenant_id),
               layout_.AlertStream(w.partition), layout_.FeedbackStream(w.partition)},
              {config_.worker_id, group, std::to_string(records[i].version()),
               update.changed ? update.record.SerializeAsString() : std::string(),
               absl::StrCat(d.therapist_id, ":", d.client_id), d.tenant_id, d.therapist_id,
               d.client_id, std::to_string(update.new_alerts.size())}};
    for (const alliance::v1::Alert& a : update.new_alerts) {
      call.args.push_back(a.alert_id());
      call.args.emplace_back(AlertKindName(a.kind()));
      call.args.emplace_back(SeverityName(a.severity()));
      call.args.push_back(AlertJson(a));
    }
    for (const DecodedFeedback& f : w.items) call.args.push_back(f.stream_id);
    calls.push_back(std::move(call));
    outcomes.push_back({w.partition, 0, update.ratings_added, update.duplicates,
                        static_cast<int>(update.new_alerts.size()),
                        static_cast<int>(w.items.size())});
  }

  // Round trip 2 (only with failures): delivery counts of the failing entries.
  for (const Failure& f : failures) {
    redis_->Append(
        {"XPENDING", layout_.FeedbackStream(f.partition), group, f.entry->id, f.entry->id, "1"});
  }
  for (Failure& f : failures) {
    absl::StatusOr<RedisReplyPtr> reply = redis_->GetReply();
    if (!reply.ok()) return reply.status();
    if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
    const redisReply& r = **reply;
    if (r.type == REDIS_REPLY_ARRAY && r.elements == 1 && r.element[0]->elements == 4) {
      f.attempts = r.element[0]->element[3]->integer;
    }
  }
  for (const Failure& f : failures) {
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
    Call call{Script::kDeadLetter,
              {layout_.Lease(f.partition), layout_.DeadLetterStream(f.partition),
               layout_.FeedbackStream(f.partition)},
              {config_.worker_id, group, f.entry->id, f.reason, std::to_string(f.attempts)}};
    for (const auto& [k, v] : f.entry->fields) {
      call.args.push_back(k);
      call.args.push_back(v);
    }
    calls.push_back(std::move(call));
    outcomes.push_back({f.partition, 1, 0, 0, 0, 1});
  }
  for (const auto& [p, ids] : ack_only) {
    Call call{Script::kApplyDyad,
              {layout_.Lease(p), layout_.Lease(p), layout_.Lease(p), layout_.AlertStream(p),
               layout_.FeedbackStream(p)},
              {config_.worker_id, group, "", "", "", "", "", "", "0"}};
    call.args.insert(call.args.end(), ids.begin(), ids.end());
    calls.push_back(std::move(call));
    outcomes.push_back({p, 2, 0, 0, 0, static_cast<int>(ids.size())});
  }

  // Round trip 3: every write of the batch, pipelined; each script is atomic on its own.
  for (const Call& call : calls) Queue(*redis_, scripts_, call);
  absl::Status first_error = absl::OkStatus();
  for (size_t i = 0; i < calls.size(); ++i) {
    absl::StatusOr<RedisReplyPtr> reply = redis_->GetReply();
    if (!reply.ok()) return reply.status();
    const redisReply& r = **reply;
    const Outcome& o = outcomes[i];
    if (r.type == REDIS_REPLY_ERROR) {
      // Keep reading the remaining replies; the reconnect re-reads everything not acked.
      if (first_error.ok()) first_error = ReplyStatus(r);
      continue;
    }
    if (r.integer == -1) {
      LosePartition(o.partition, "write refused");
      continue;
    }
    if (r.integer == -2) {
      metrics_->version_conflicts->Increment();
      Partition& part = partitions_[o.partition];
      part.pending_mode = true;
      part.pel_cursor = std::string(1, '0');
      continue;
    }
    if (o.kind == 1) {
      const Failure* f = nullptr;
      for (const Failure& candidate : failures) {
        if (candidate.entry->id == calls[i].args[2] && candidate.partition == o.partition) {
          f = &candidate;
        }
      }
      metrics_->partition[o.partition].dead_letters->Increment();
      metrics_->entries_acked->Increment();
      LogWarning("dead_letter", {{"partition", int64_t{o.partition}},
                                 {"source_id", calls[i].args[2]},
                                 {"reason", f ? std::string_view(f->reason) : ""},
                                 {"attempts", f ? f->attempts : int64_t{0}}});
      continue;
    }
    metrics_->ratings_applied->Increment(o.ratings);
    metrics_->duplicates_skipped->Increment(o.duplicates);
    metrics_->alerts_emitted->Increment(o.alerts);
    metrics_->entries_acked->Increment(o.acked);
  }
  return first_error;
}

}  // namespace alliance::worker
