// Applying one batch: decode entries, group them by dyad, take each dyad's state from the
// cache or load its record (pipelined MGETs of head and log), apply the new ratings
// incrementally, and write state (a new head, the log's new elements) + index + new alerts +
// acknowledgements with one fenced script per partition and slice of dyads, which checks every
// dyad's version (and so that a cached state is current).
// Each script is sent as soon as its slice is computed, so Redis runs it while the worker
// computes the next slice. On a Redis Cluster each script is one exchange with the primary of
// its partition's slot, followed there by WAIT when writes must reach replicas.
// Entries that cannot be processed stay pending for later passes and are parked as dead
// letters after --max_attempts deliveries.
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/strings.h"
#include "store/dyad_record_io.h"
#include "worker/dyad_state.h"
#include "worker/pipeline.h"
#include "worker/record_convert.h"
#include "worker/worker.h"

namespace alliance::worker {
namespace {

// Commands in flight per pipeline window, and dyads per apply script (bounds the time Redis
// spends in one script and the size of one command); at most kScriptWindow times that many
// dyads wait for their replies.
constexpr size_t kGetWindow = 256;
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

// One script call whose arguments must outlive the pipelined send.
struct Call {
  Script script;
  int partition = 0;
  std::vector<std::string> keys;
  std::vector<std::string> args;
  // kApplyBatch: per dyad in the call, the counts to book when it is applied.
  struct Booking {
    int ratings = 0, duplicates = 0, alerts = 0, acked = 0;
    const std::string* dyad_key = nullptr;
  };
  std::vector<Booking> bookings;
  int extra_acks = 0;
  const Failure* failure = nullptr;  // kDeadLetter
};

void Queue(RedisConnection& redis, const ScriptShas& shas, const Call& call) {
  shas.AppendStrings(redis, call.script, call.keys, call.args);
}

// Cluster mode: commands 0..count-1, each on the slot of `key_of(i)`, one exchange per slot
// (the keys of one partition share a slot); replies handed to `on_reply(i, reply)` in order of
// i within a slot. Stops at the first failed exchange or error status of `on_reply`.
absl::Status RunBySlot(WorkerRedis& redis, size_t count,
                       const std::function<std::string(size_t)>& key_of,
                       const std::function<std::vector<std::string>(size_t)>& command_of,
                       const std::function<absl::Status(size_t, const redisReply&)>& on_reply) {
  std::vector<CommandGroup> groups;
  std::vector<std::vector<size_t>> members;
  std::map<std::string, size_t> group_of;
  for (size_t i = 0; i < count; ++i) {
    std::string key = key_of(i);
    auto [it, inserted] = group_of.try_emplace(key, groups.size());
    if (inserted) {
      groups.push_back({key, {}});
      members.emplace_back();
    }
    groups[it->second].commands.push_back(command_of(i));
    members[it->second].push_back(i);
  }
  absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> replies = redis.Run(groups);
  if (!replies.ok()) return replies.status();
  absl::Status status = absl::OkStatus();
  for (size_t g = 0; g < groups.size() && status.ok(); ++g) {
    for (size_t j = 0; j < members[g].size() && status.ok(); ++j) {
      status = on_reply(members[g][j], *(*replies)[g][j]);
    }
  }
  return status;
}

// What a call weighs in the send window: its dyads (at least 1: a dead letter, an
// acknowledgement of deleted entries).
size_t DyadsOf(const Call& call) { return std::max<size_t>(1, call.bookings.size()); }

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
  auto on_loaded = [&](size_t i, const redisReply& r) -> absl::Status {
    if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
    DyadWork& w = dyads[misses[i]];
    absl::StatusOr<std::optional<StoredDyad>> stored = ParseStoredDyad(r);
    if (stored.status().code() == absl::StatusCode::kDataLoss) {
      w.record_ok = false;
      return absl::OkStatus();
    }
    if (!stored.ok()) return stored.status();
    const internal::v1::DyadRecord empty;
    // Without retention, the first write after a load replaces the log: written under an
    // earlier retention setting, it may still carry an expiry that an append would keep.
    const bool appendable =
        stored->has_value() && (*stored)->has_log && config_.data_retention > absl::ZeroDuration();
    w.state = cache_.Insert(
        w.partition, w.key,
        std::make_unique<DyadState>(*registry_, rules_, w.items.front().dyad,
                                    stored->has_value() ? (*stored)->record : empty, appendable));
    return absl::OkStatus();
  };
  absl::Status loaded =
      redis_->cluster()
          ? RunBySlot(
                *redis_, misses.size(), [&](size_t i) { return dyads[misses[i]].key; },
                [&](size_t i) -> std::vector<std::string> {
                  const DyadWork& w = dyads[misses[i]];
                  const analytics::DyadKey& d = w.items.front().dyad;
                  return {"MGET", w.key,
                          layout_.DyadLog(w.partition, d.tenant_id, d.therapist_id, d.client_id)};
                },
                on_loaded)
          : RunPipelined(
                *redis_->connection(), misses.size(), kGetWindow,
                [&](size_t i) {
                  const DyadWork& w = dyads[misses[i]];
                  const analytics::DyadKey& d = w.items.front().dyad;
                  AppendStoredDyadRead(*redis_->connection(), layout_, w.partition, d.tenant_id,
                                       d.therapist_id, d.client_id);
                },
                on_loaded);
  if (!loaded.ok()) return loaded;

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
  auto xpending = [&](size_t i) -> std::vector<std::string> {
    const Failure& f = failures[i];
    return {"XPENDING", layout_.FeedbackStream(f.partition), group, f.entry->id, f.entry->id, "1"};
  };
  auto on_counted = [&](size_t i, const redisReply& r) -> absl::Status {
    if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
    if (r.type == REDIS_REPLY_ARRAY && r.elements == 1 && r.element[0]->elements == 4) {
      failures[i].attempts = r.element[0]->element[3]->integer;
    }
    return absl::OkStatus();
  };
  absl::Status counted =
      redis_->cluster()
          ? RunBySlot(
                *redis_, failures.size(),
                [&](size_t i) { return layout_.FeedbackStream(failures[i].partition); }, xpending,
                on_counted)
          : RunPipelined(
                *redis_->connection(), failures.size(), kGetWindow,
                [&](size_t i) {
                  std::vector<std::string> args = xpending(i);
                  redis_->connection()->Append(
                      std::vector<std::string_view>(args.begin(), args.end()));
                },
                on_counted);
  if (!counted.ok()) return counted;

  // Every write of the batch; each script is atomic on its own. Scripts go out as soon as they
  // are complete, so Redis applies one while the next is computed; replies are awaited only
  // when more than kScriptWindow scripts' worth of dyads are in flight (the small scripts of
  // live traffic, a few dyads each, do not stop the worker). A state whose write was refused
  // is dropped from the cache; if the round fails midway, the reconnect clears it.
  std::deque<Call> in_flight;
  size_t dyads_in_flight = 0;
  absl::Status written = absl::OkStatus();
  auto on_reply = [&](const Call& call, const redisReply& r) -> absl::Status {
    if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
    if (r.type == REDIS_REPLY_INTEGER && r.integer == -1) {
      LosePartition(call.partition, "write refused");
      return absl::OkStatus();
    }
    if (call.script == Script::kDeadLetter) {
      if (r.type == REDIS_REPLY_INTEGER && r.integer == 0) return absl::OkStatus();
      metrics_->partition[call.partition].dead_letters->Increment();
      metrics_->entries_acked->Increment();
      LogWarning("dead_letter", {{"partition", int64_t{call.partition}},
                                 {"source_id", call.failure->entry->id},
                                 {"reason", call.failure->reason},
                                 {"attempts", call.failure->attempts}});
      return absl::OkStatus();
    }
    if (r.type != REDIS_REPLY_ARRAY || r.elements != call.bookings.size()) {
      return absl::InternalError("unexpected apply reply");
    }
    metrics_->entries_acked->Increment(call.extra_acks);
    for (size_t d = 0; d < call.bookings.size(); ++d) {
      if (r.element[d]->integer != 1) {
        // Someone else wrote the record meanwhile: nothing of this dyad was written or
        // acknowledged; re-read the pending entries and apply them on the fresh record.
        metrics_->version_conflicts->Increment();
        cache_.Erase(*call.bookings[d].dyad_key);
        Partition& part = partitions_[call.partition];
        part.pending_mode = true;
        part.pel_cursor = std::string(1, '0');
        continue;
      }
      const Call::Booking& b = call.bookings[d];
      metrics_->ratings_applied->Increment(b.ratings);
      metrics_->duplicates_skipped->Increment(b.duplicates);
      metrics_->alerts_emitted->Increment(b.alerts);
      metrics_->entries_acked->Increment(b.acked);
    }
    return absl::OkStatus();
  };
  const bool wait = target_.wait_replicas > 0;
  const std::string wait_replicas = std::to_string(target_.wait_replicas);
  const std::string wait_ms = std::to_string(absl::ToInt64Milliseconds(target_.wait_timeout));
  // Cluster mode: the call and WAIT in one exchange with the primary of the partition's slot.
  // WAIT has no key, so it stays with the node first asked: after a redirection (the script
  // ran elsewhere) or a transport error (a new connection has written nothing) its answer says
  // nothing about the script's writes, which then count as unconfirmed.
  auto exchange = [&](const Call& call) -> absl::Status {
    ClusterClient& cluster = *redis_->cluster_client();
    const ClusterStats before = cluster.stats();
    std::vector<CommandGroup> group = {
        {call.keys[0], {redis_->Eval(call.script, call.keys, call.args)}}};
    if (wait) group[0].commands.push_back({"WAIT", wait_replicas, wait_ms});
    absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> replies = redis_->Run(group);
    if (!replies.ok()) return replies.status();
    absl::Status s = on_reply(call, *(*replies)[0][0]);
    if (!s.ok() || !wait) return s;
    const ClusterStats& after = cluster.stats();
    const bool rerouted = after.moved != before.moved || after.ask != before.ask ||
                          after.transport_errors != before.transport_errors;
    if (rerouted) {
      redisReply unconfirmed{};
      unconfirmed.type = REDIS_REPLY_NIL;
      CheckWait(call.partition, unconfirmed);
    } else {
      CheckWait(call.partition, *(*replies)[0][1]);
    }
    return absl::OkStatus();
  };
  auto receive_one = [&]() -> absl::Status {
    absl::StatusOr<RedisReplyPtr> reply = redis_->connection()->GetReply();
    if (!reply.ok()) return reply.status();
    absl::Status s = on_reply(in_flight.front(), **reply);
    dyads_in_flight -= DyadsOf(in_flight.front());
    in_flight.pop_front();
    return s;
  };
  auto send = [&](Call call) -> absl::Status {
    if (redis_->cluster()) return exchange(call);
    Queue(*redis_->connection(), redis_->scripts(), call);
    dyads_in_flight += DyadsOf(call);
    in_flight.push_back(std::move(call));
    if (absl::Status s = redis_->connection()->Flush(); !s.ok()) return s;
    while (dyads_in_flight > kScriptWindow * kDyadsPerScript) {
      if (absl::Status s = receive_one(); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  const std::string retention = std::to_string(absl::ToInt64Milliseconds(config_.data_retention));
  auto new_apply_call = [&](int p) {
    return Call{Script::kApplyBatch,
                p,
                {layout_.Lease(p), layout_.AlertStream(p), layout_.FeedbackStream(p),
                 layout_.ErasureCount(p)},
                {config_.worker_id, group, "0", partitions_[p].erasures_at_read},
                {},
                0,
                nullptr};
  };
  // Completes an apply call: its dyad count, the deleted entries to acknowledge with it, the
  // retention.
  auto finish_apply_call = [&](Call& call, const std::vector<std::string>* extra) {
    call.args[2] = std::to_string(call.bookings.size());
    call.extra_acks = extra == nullptr ? 0 : static_cast<int>(extra->size());
    call.args.push_back(std::to_string(call.extra_acks));
    if (extra != nullptr) call.args.insert(call.args.end(), extra->begin(), extra->end());
    call.args.push_back(retention);
  };

  google::protobuf::Timestamp now = google::protobuf::util::TimeUtil::GetCurrentTime();
  std::optional<Call> open;  // the apply call being filled (dyads come grouped by partition)
  for (size_t i = 0; i < dyads.size() && written.ok(); ++i) {
    DyadWork& w = dyads[i];
    if (!w.record_ok) continue;
    if (open && (open->partition != w.partition || open->bookings.size() >= kDyadsPerScript)) {
      finish_apply_call(*open, nullptr);
      written = send(*std::move(open));
      open.reset();
      if (!written.ok()) break;
    }
    // A reply (just now or earlier) may have reported the partition lost, which dropped its
    // states: its remaining entries stay pending for the next owner.
    if (!partitions_[w.partition].owned) continue;
    if (!open) open = new_apply_call(w.partition);
    Call& call = *open;
    const analytics::DyadKey& d = w.items.front().dyad;
    const int64_t version = w.state->version();
    DyadState::Update update = w.state->Apply(w.items, now);
    call.keys.push_back(w.key);
    call.keys.push_back(layout_.DyadLog(w.partition, d.tenant_id, d.therapist_id, d.client_id));
    call.keys.push_back(layout_.DyadIndex(w.partition, d.tenant_id));
    call.args.push_back(std::to_string(version));
    call.args.push_back(std::move(update.head));
    call.args.emplace_back(1, update.replace_log ? 'r' : 'a');
    call.args.push_back(std::move(update.log));
    // The index member is added with the first write of the record; later writes skip it.
    call.args.push_back(update.changed && version == 0
                            ? absl::StrCat(d.therapist_id, ":", d.client_id)
                            : std::string());
    call.args.push_back(std::to_string(update.new_alerts.size()));
    if (!update.new_alerts.empty()) {
      call.args.push_back(d.tenant_id);
      call.args.push_back(d.therapist_id);
      call.args.push_back(d.client_id);
    }
    for (const alliance::v1::Alert& a : update.new_alerts) {
      call.args.push_back(a.alert_id());
      call.args.emplace_back(AlertKindName(a.kind()));
      call.args.emplace_back(SeverityName(a.severity()));
      call.args.push_back(AlertJson(a));
    }
    call.args.push_back(std::to_string(w.items.size()));
    for (const DecodedFeedback& f : w.items) call.args.push_back(f.stream_id);
    call.bookings.push_back({update.ratings_added, update.duplicates,
                             static_cast<int>(update.new_alerts.size()),
                             static_cast<int>(w.items.size()), &w.key});
  }
  // The last apply call, and the deleted entries of each partition, acknowledged with that
  // partition's last call (or a call of their own).
  if (written.ok() && open) {
    auto extra = ack_only.find(open->partition);
    finish_apply_call(*open, extra == ack_only.end() ? nullptr : &extra->second);
    if (extra != ack_only.end()) ack_only.erase(extra);
    written = send(*std::move(open));
  }
  for (auto& [p, ids] : ack_only) {
    if (!written.ok()) break;
    Call call = new_apply_call(p);
    finish_apply_call(call, &ids);
    written = send(std::move(call));
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
    Call call{Script::kDeadLetter,
              f.partition,
              {layout_.Lease(f.partition), layout_.DeadLetterStream(f.partition),
               layout_.FeedbackStream(f.partition)},
              {config_.worker_id, group, f.entry->id, f.reason, std::to_string(f.attempts)},
              {},
              0,
              &f};
    for (const auto& [k, v] : f.entry->fields) {
      call.args.push_back(k);
      call.args.push_back(v);
    }
    written = send(std::move(call));
  }
  while (written.ok() && !in_flight.empty()) written = receive_one();
  // A single Redis: one WAIT covers every write of the batch (all on this connection).
  if (written.ok() && wait && !redis_->cluster()) {
    absl::StatusOr<RedisReplyPtr> reply =
        redis_->connection()->Command({"WAIT", wait_replicas, wait_ms});
    if (!reply.ok()) return reply.status();
    for (const auto& [p, entries] : batch) CheckWait(p, **reply);
  }
  cache_.Trim();
  return written;
}

}  // namespace alliance::worker
