// One client's erasure; see client_erasure.h.
#include "store/client_erasure.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alliance/internal/v1/records.pb.h"
#include "common/strings.h"
#include "store/disengagement_watch.h"
#include "store/dyad_reads.h"
#include "store/idempotency_record.h"
#include "store/lua_scripts.h"
#include "store/stream_entry.h"

namespace alliance {
namespace {

using alliance::internal::v1::DyadRecord;
using alliance::internal::v1::FeedbackEntry;

// What the streams and records told us about the client.
struct Found {
  std::set<std::pair<int, std::string>> dyads;  // (partition, therapist)
  std::set<std::string> accepted_ids;
  std::set<std::string> idempotency_ids;
  std::set<std::string> alert_ids;
};

// The integer of a reply that must be one (DEL, XDEL, ZREM); INTERNAL naming `what` otherwise.
absl::StatusOr<int64_t> IntegerReply(const redisReply& reply, std::string_view what) {
  if (absl::Status s = ReplyStatus(reply); !s.ok()) return s;
  if (reply.type != REDIS_REPLY_INTEGER) {
    return absl::InternalError(absl::StrCat("erasure: unexpected ", Absl(what), " reply"));
  }
  return reply.integer;
}

absl::StatusOr<int64_t> IntegerCommand(RedisExecutor& redis, int slot, const CommandArgs& args) {
  absl::StatusOr<RedisReplyPtr> reply = redis.Command(slot, args);
  if (!reply.ok()) return reply.status();
  return IntegerReply(**reply, args[0]);
}

std::string_view FieldOf(const StreamEntry& entry, std::string_view name) {
  const std::string* value = entry.Field(name);
  return value == nullptr ? std::string_view() : std::string_view(*value);
}

// Walks `stream` from the start in pages; `match` says whether an entry is the client's.
// Returns the ids of matching entries.
absl::StatusOr<std::vector<std::string>> MatchingEntries(
    RedisExecutor& redis, const std::string& stream, const ClientErasureLimits& limits,
    const std::function<bool(const StreamEntry& entry)>& match) {
  const int slot = redis.SlotOf(stream);
  std::vector<std::string> ids;
  std::string start = "-";
  const std::string count = std::to_string(limits.page);
  for (int64_t round = 0; round < limits.max_rounds; ++round) {
    absl::StatusOr<RedisReplyPtr> reply =
        redis.Command(slot, {"XRANGE", stream, start, "+", "COUNT", count});
    if (!reply.ok()) return reply.status();
    if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
    absl::StatusOr<std::vector<StreamEntry>> entries = ParseEntries(**reply);
    if (!entries.ok()) {
      return absl::InternalError(
          absl::StrCat("erasure: bad XRANGE reply: ", entries.status().message()));
    }
    if (entries->empty()) return ids;
    for (const StreamEntry& entry : *entries) {
      if (match(entry)) ids.push_back(entry.id);
    }
    start = absl::StrCat("(", entries->back().id);  // exclusive: after the last
    if (entries->size() < static_cast<size_t>(limits.page)) return ids;
  }
  return absl::DeadlineExceededError(absl::StrCat("erasure: ", stream, " too long to walk"));
}

// Deletes `ids` from `stream`; returns how many entries were deleted. For a feedback stream
// (`erasure_counter` set) each slice is one transaction that also removes the ids from the
// worker group's pending list and increments the partition's erasure counter: a worker that
// read one of these entries before sees the counter moved when it applies its batch, and then
// checks entry by entry (store/lua/apply_batch.lua). The transaction touches one partition's
// keys: one exchange on its slot. On a cluster, a slot that moved under the transaction makes
// its commands answer MOVED (the client resends them alone, the counter's INCR first, so that a
// worker that applies in between still checks entry by entry) and EXEC answer EXECABORT:
// UNAVAILABLE then, and the caller retries the erasure (it is idempotent).
absl::StatusOr<int64_t> DeleteEntries(RedisExecutor& redis, const std::string& stream,
                                      const std::vector<std::string>& ids,
                                      const std::string& erasure_counter) {
  const int slot = redis.SlotOf(stream);
  int64_t deleted = 0;
  for (size_t begin = 0; begin < ids.size(); begin += 500) {
    CommandArgs xdel = {"XDEL", stream};
    CommandArgs xack = {"XACK", stream, kWorkerGroup};
    for (size_t i = begin; i < std::min(ids.size(), begin + 500); ++i) {
      xdel.push_back(ids[i]);
      xack.push_back(ids[i]);
    }
    if (erasure_counter.empty()) {
      absl::StatusOr<int64_t> n = IntegerCommand(redis, slot, xdel);
      if (!n.ok()) return n.status();
      deleted += *n;
      continue;
    }
    const CommandArgs transaction[] = {{"MULTI"}, {"INCR", erasure_counter}, xdel, xack, {"EXEC"}};
    // All five replies are read before any is judged: MULTI's OK, a QUEUED per command, EXEC's.
    absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.Exchange(slot, transaction);
    if (!replies.ok()) return replies.status();
    const redisReply& r = *replies->back();
    if (redis.cluster() && r.type == REDIS_REPLY_ERROR) {
      // EXECABORT, or EXEC without MULTI after a connection lost halfway: the commands were
      // resent on their own, in the safe order above.
      return absl::UnavailableError(
          absl::StrCat("erasure: the partition moved or failed over during the erasure (",
                       Absl(ReplyString(r)), "); retry"));
    }
    for (const RedisReplyPtr& reply : *replies) {
      if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
    }
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 3) {
      return absl::InternalError("erasure: unexpected transaction reply");
    }
    // INCR and XDEL must succeed; XACK fails when the group does not exist (nothing ever
    // consumed), which is fine: nothing is pending then.
    if (absl::Status s = IntegerReply(*r.element[0], "INCR").status(); !s.ok()) return s;
    absl::StatusOr<int64_t> n = IntegerReply(*r.element[1], "XDEL");
    if (!n.ok()) return n.status();
    deleted += *n;
  }
  return deleted;
}

// Matches feedback and dead-letter entries of the client (the entry's protobuf names it).
std::function<bool(const StreamEntry&)> FeedbackOf(const std::string& tenant,
                                                   const std::string& client, int partition,
                                                   Found* found) {
  return [&tenant, &client, partition, found](const StreamEntry& stream_entry) {
    if (FieldOf(stream_entry, "tenant") != tenant) return false;
    std::string_view bytes = FieldOf(stream_entry, "entry");
    FeedbackEntry entry;
    if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
    if (entry.feedback().client_id() != client) return false;
    found->dyads.insert({partition, entry.feedback().therapist_id()});
    found->accepted_ids.insert(entry.accepted_id());
    found->idempotency_ids.insert(entry.feedback().idempotency_id());
    return true;
  };
}

// Members "therapist:client" of the tenant's dyad index of one partition that are the client's.
absl::Status IndexedDyads(RedisExecutor& redis, const KeyLayout& layout, int partition,
                          const std::string& tenant, const std::string& client,
                          const ClientErasureLimits& limits, Found* found) {
  const std::string index = layout.DyadIndex(partition, tenant);
  std::string cursor = "0";
  const std::string pattern = absl::StrCat("*:", client);
  const std::string count = std::to_string(limits.page);
  for (int64_t round = 0; round < limits.max_rounds; ++round) {
    absl::StatusOr<RedisReplyPtr> reply = redis.Command(
        redis.SlotOf(index), {"ZSCAN", index, cursor, "MATCH", pattern, "COUNT", count});
    if (!reply.ok()) return reply.status();
    if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 ||
        r.element[0]->type != REDIS_REPLY_STRING || r.element[1]->type != REDIS_REPLY_ARRAY) {
      return absl::InternalError("erasure: unexpected ZSCAN reply");
    }
    cursor = std::string(ReplyString(*r.element[0]));
    const redisReply& members = *r.element[1];
    for (size_t i = 0; i + 1 < members.elements; i += 2) {
      if (members.element[i]->type != REDIS_REPLY_STRING) {
        return absl::InternalError("erasure: unexpected ZSCAN member");
      }
      std::string_view member = ReplyString(*members.element[i]);
      size_t colon = member.rfind(':');
      if (colon != std::string_view::npos && member.substr(colon + 1) == client) {
        found->dyads.insert({partition, std::string(member.substr(0, colon))});
      }
    }
    if (cursor == "0") return absl::OkStatus();
  }
  return absl::DeadlineExceededError("erasure: dyad index too long to scan");
}

// Keys matching `pattern` (SCAN of one node), handed to `visit` page by page.
absl::Status ScanKeys(RedisConnection& redis, const std::string& pattern,
                      const ClientErasureLimits& limits,
                      const std::function<absl::Status(const std::vector<std::string>&)>& visit) {
  std::string cursor = "0";
  const std::string count = std::to_string(limits.page);
  for (int64_t round = 0; round < limits.max_rounds; ++round) {
    absl::StatusOr<RedisReplyPtr> reply =
        redis.Command({"SCAN", cursor, "MATCH", pattern, "COUNT", count});
    if (!reply.ok()) return reply.status();
    if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 ||
        r.element[0]->type != REDIS_REPLY_STRING || r.element[1]->type != REDIS_REPLY_ARRAY) {
      return absl::InternalError("erasure: unexpected SCAN reply");
    }
    cursor = std::string(ReplyString(*r.element[0]));
    std::vector<std::string> keys;
    for (size_t i = 0; i < r.element[1]->elements; ++i) {
      if (r.element[1]->element[i]->type != REDIS_REPLY_STRING) {
        return absl::InternalError("erasure: unexpected SCAN key");
      }
      keys.emplace_back(ReplyString(*r.element[1]->element[i]));
    }
    if (!keys.empty()) {
      if (absl::Status s = visit(keys); !s.ok()) return s;
    }
    if (cursor == "0") return absl::OkStatus();
  }
  return absl::DeadlineExceededError("erasure: keyspace too large to scan");
}

// DEL of `keys`: one command on a single Redis; on a cluster one per slot (keys outside
// partitions, such as alert status hashes, are spread over the slots).
absl::StatusOr<int64_t> Delete(RedisExecutor& redis, const std::vector<std::string>& keys) {
  std::map<int, CommandArgs> by_slot;
  for (const std::string& k : keys) {
    CommandArgs& del = by_slot[redis.SlotOf(k)];
    if (del.empty()) del.push_back("DEL");
    del.push_back(k);
  }
  std::vector<SlotCommand> commands;
  for (auto& [slot, del] : by_slot) commands.push_back({slot, std::move(del)});
  if (commands.empty()) return 0;
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.ReadPipeline(commands);
  if (!replies.ok()) return replies.status();
  int64_t deleted = 0;
  for (const RedisReplyPtr& reply : *replies) {
    absl::StatusOr<int64_t> n = IntegerReply(*reply, "DEL");
    if (!n.ok()) return n.status();
    deleted += *n;
  }
  return deleted;
}

}  // namespace

absl::StatusOr<ErasedClientData> EraseClientData(RedisExecutor& redis, const KeyLayout& layout,
                                                 const std::string& tenant,
                                                 const std::string& client,
                                                 ClientErasureLimits limits) {
  ErasedClientData removed;
  Found found;
  // 1. Feedback (pending or retained) and dead letters: first, so the worker cannot apply
  //    them any more (its apply script skips entries that no longer exist, and learns from
  //    the partition's erasure counter that it must look).
  for (int p = 0; p < layout.partitions(); ++p) {
    for (bool dead : {false, true}) {
      std::string stream = dead ? layout.DeadLetterStream(p) : layout.FeedbackStream(p);
      absl::StatusOr<std::vector<std::string>> ids =
          MatchingEntries(redis, stream, limits, FeedbackOf(tenant, client, p, &found));
      if (!ids.ok()) return ids.status();
      absl::StatusOr<int64_t> n =
          DeleteEntries(redis, stream, *ids, dead ? std::string() : layout.ErasureCount(p));
      if (!n.ok()) return n.status();
      (dead ? removed.dead_letters : removed.feedback_entries) += *n;
    }
  }
  // 2. Dyad states (their ratings and alert history tell which submissions and alerts were
  //    the client's) and index members.
  for (int p = 0; p < layout.partitions(); ++p) {
    if (absl::Status s = IndexedDyads(redis, layout, p, tenant, client, limits, &found); !s.ok()) {
      return s;
    }
  }
  for (const auto& [p, therapist] : found.dyads) {
    absl::StatusOr<std::optional<StoredDyad>> stored =
        ReadDyad(redis, layout, p, tenant, therapist, client);
    // An unreadable record is deleted all the same; its ids are then found in the streams only.
    if (!stored.ok() && stored.status().code() != absl::StatusCode::kDataLoss) {
      return stored.status();
    }
    if (stored.ok() && stored->has_value()) {
      const DyadRecord& record = (*stored)->record;
      for (const auto& rating : record.ratings()) found.accepted_ids.insert(rating.rating_id());
      for (const auto& alert : record.alerts()) found.alert_ids.insert(alert.alert_id());
    }
    // Head, log, summary contribution and index member in one script (store/lua/erase_dyad.lua),
    // which also subtracts the dyad from the therapist summaries: no moment where a summary
    // counts a dyad that is gone, or one part exists without the others.
    const std::string head = layout.DyadState(p, tenant, therapist, client);
    // The strings the command's views point at live until the reply is read.
    const std::string words[] = {std::string(ScriptSource(Script::kEraseDyad)),
                                 head,
                                 layout.DyadLog(p, tenant, therapist, client),
                                 layout.DyadSummary(p, tenant, therapist, client),
                                 layout.TherapistSummary(p, tenant, therapist),
                                 layout.TenantSummary(p, tenant),
                                 layout.SummaryTherapists(p, tenant),
                                 layout.DyadIndex(p, tenant),
                                 layout.DisengagementWatch(p),
                                 therapist,
                                 absl::StrCat(therapist, ":", client),
                                 DisengagementWatchMember(tenant, therapist, client)};
    CommandArgs erase = {"EVAL", words[0], "8"};
    for (size_t i = 1; i < std::size(words); ++i) erase.push_back(words[i]);
    absl::StatusOr<RedisReplyPtr> reply = redis.Command(redis.SlotOf(head), erase);
    if (!reply.ok()) return reply.status();
    if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 ||
        r.element[0]->type != REDIS_REPLY_INTEGER || r.element[1]->type != REDIS_REPLY_INTEGER) {
      return absl::InternalError("erasure: unexpected erase_dyad.lua reply");
    }
    removed.dyad_states += r.element[0]->integer;
    removed.dyad_index_entries += r.element[1]->integer;
  }
  // 3. Alert stream entries (they name the client) and the workflow status of each alert.
  for (int p = 0; p < layout.partitions(); ++p) {
    std::string stream = layout.AlertStream(p);
    absl::StatusOr<std::vector<std::string>> ids = MatchingEntries(
        redis, stream, limits, [&tenant, &client, &found](const StreamEntry& entry) {
          if (FieldOf(entry, "tenant") != tenant || FieldOf(entry, "client") != client) {
            return false;
          }
          found.alert_ids.insert(std::string(FieldOf(entry, "alert_id")));
          return true;
        });
    if (!ids.ok()) return ids.status();
    absl::StatusOr<int64_t> n = DeleteEntries(redis, stream, *ids, std::string());
    if (!n.ok()) return n.status();
    removed.alert_entries += *n;
  }
  std::vector<std::string> status_keys;
  for (const std::string& id : found.alert_ids) {
    status_keys.push_back(layout.AlertStatus(tenant, id));
  }
  absl::StatusOr<int64_t> statuses = Delete(redis, status_keys);
  if (!statuses.ok()) return statuses.status();
  removed.alert_statuses = *statuses;
  // 4. Idempotency records: by id where the entry was still in a stream, and by accepted id
  //    (the record's last field) for submissions whose entries were already trimmed.
  std::vector<std::string> idem_keys;
  for (int p = 0; p < layout.partitions(); ++p) {
    for (const std::string& id : found.idempotency_ids) {
      idem_keys.push_back(layout.Idempotency(p, tenant, id));
    }
  }
  const std::string p0 = layout.PartitionPrefix(0);                      // "alliance:{p0}"
  const std::string any_partition = p0.substr(0, p0.size() - 2) + "*}";  // "alliance:{p*}"
  const std::string pattern = any_partition + layout.Idempotency(0, tenant, "*").substr(p0.size());
  if (!found.accepted_ids.empty()) {
    // SCAN sees one node's keys: every primary is walked (the single Redis once), and the
    // records found are read on that node's connection, where their slots are.
    absl::Status scanned = redis.ForEachPrimary([&](RedisConnection& node) -> absl::Status {
      return ScanKeys(
          node, pattern, limits, [&](const std::vector<std::string>& keys) -> absl::Status {
            for (const std::string& k : keys) node.Append({"GET", k});
            // Every GET's reply is read before any is looked at: the connection stays in step.
            absl::StatusOr<std::vector<RedisReplyPtr>> values = node.GetReplies(keys.size());
            if (!values.ok()) return values.status();
            for (size_t i = 0; i < keys.size(); ++i) {
              const std::string& k = keys[i];
              const redisReply& value = *(*values)[i];
              // An error reply (a key of another type, or a redirection for a slot migrating
              // meanwhile) or nil: not an idempotency record.
              if (value.type != REDIS_REPLY_STRING) continue;
              std::optional<IdempotencyRecord> record =
                  IdempotencyRecord::Parse(ReplyString(value));
              if (record && found.accepted_ids.count(record->accepted_id) > 0) {
                idem_keys.push_back(k);
              }
            }
            return absl::OkStatus();
          });
    });
    if (!scanned.ok()) return scanned;
  }
  std::sort(idem_keys.begin(), idem_keys.end());
  idem_keys.erase(std::unique(idem_keys.begin(), idem_keys.end()), idem_keys.end());
  absl::StatusOr<int64_t> idem = Delete(redis, idem_keys);
  if (!idem.ok()) return idem.status();
  removed.idempotency_records = *idem;
  return removed;
}

}  // namespace alliance
