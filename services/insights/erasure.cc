// DeleteClientData's Redis work; see erasure.h.
#include "services/insights/erasure.h"

#include <algorithm>
#include <functional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alliance/internal/v1/records.pb.h"
#include "common/strings.h"
#include "store/dyad_record_io.h"
#include "store/idempotency_record.h"

namespace alliance::insights {
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

absl::StatusOr<int64_t> IntegerCommand(RedisConnection& redis,
                                       const std::vector<std::string_view>& args) {
  absl::StatusOr<RedisReplyPtr> reply = redis.Command(args);
  if (!reply.ok()) return reply.status();
  return IntegerReply(**reply, args[0]);
}

std::string_view Field(const redisReply& fields, std::string_view name) {
  for (size_t i = 0; i + 1 < fields.elements; i += 2) {
    if (ReplyString(*fields.element[i]) == name) return ReplyString(*fields.element[i + 1]);
  }
  return {};
}

// Walks `stream` from the start in pages; `match` says whether an entry is the client's.
// Returns the ids of matching entries.
absl::StatusOr<std::vector<std::string>> MatchingEntries(
    RedisConnection& redis, const std::string& stream, const ErasureLimits& limits,
    const std::function<bool(const redisReply& fields)>& match) {
  std::vector<std::string> ids;
  std::string start = "-";
  const std::string count = std::to_string(limits.page);
  for (int64_t round = 0; round < limits.max_rounds; ++round) {
    absl::StatusOr<RedisReplyPtr> reply =
        redis.Command({"XRANGE", stream, start, "+", "COUNT", count});
    if (!reply.ok()) return reply.status();
    if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
    const redisReply& entries = **reply;
    if (entries.type != REDIS_REPLY_ARRAY) return absl::InternalError("erasure: bad XRANGE reply");
    if (entries.elements == 0) return ids;
    std::string_view last_id;
    for (size_t i = 0; i < entries.elements; ++i) {
      const redisReply& entry = *entries.element[i];
      if (entry.type != REDIS_REPLY_ARRAY || entry.elements != 2 ||
          entry.element[0]->type != REDIS_REPLY_STRING) {
        return absl::InternalError("erasure: bad stream entry in XRANGE reply");
      }
      last_id = ReplyString(*entry.element[0]);
      if (entry.element[1]->type == REDIS_REPLY_ARRAY && match(*entry.element[1])) {
        ids.emplace_back(last_id);
      }
    }
    start = absl::StrCat("(", Absl(last_id));  // exclusive: after the last
    if (entries.elements < static_cast<size_t>(limits.page)) return ids;
  }
  return absl::DeadlineExceededError(absl::StrCat("erasure: ", stream, " too long to walk"));
}

// Deletes `ids` from `stream`; returns how many entries were deleted. For a feedback stream
// (`erasure_counter` set) each slice is one transaction that also removes the ids from the
// worker group's pending list and increments the partition's erasure counter: a worker that
// read one of these entries before sees the counter moved when it applies its batch, and then
// checks entry by entry (store/lua/apply_batch.lua).
absl::StatusOr<int64_t> DeleteEntries(RedisConnection& redis, const std::string& stream,
                                      const std::vector<std::string>& ids,
                                      const std::string& erasure_counter) {
  int64_t deleted = 0;
  for (size_t begin = 0; begin < ids.size(); begin += 500) {
    std::vector<std::string_view> xdel = {"XDEL", stream};
    std::vector<std::string_view> xack = {"XACK", stream, kWorkerGroup};
    for (size_t i = begin; i < std::min(ids.size(), begin + 500); ++i) {
      xdel.push_back(ids[i]);
      xack.push_back(ids[i]);
    }
    if (erasure_counter.empty()) {
      absl::StatusOr<int64_t> n = IntegerCommand(redis, xdel);
      if (!n.ok()) return n.status();
      deleted += *n;
      continue;
    }
    redis.Append({"MULTI"});
    redis.Append(xdel);
    redis.Append(xack);
    redis.Append({"INCR", erasure_counter});
    redis.Append({"EXEC"});
    // All five replies are read before any is judged: MULTI's OK, a QUEUED per command, EXEC's.
    absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.GetReplies(5);
    if (!replies.ok()) return replies.status();
    for (const RedisReplyPtr& reply : *replies) {
      if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
    }
    const redisReply& r = *replies->back();
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 3) {
      return absl::InternalError("erasure: unexpected transaction reply");
    }
    // XDEL and INCR must succeed; XACK fails when the group does not exist (nothing ever
    // consumed), which is fine: nothing is pending then.
    absl::StatusOr<int64_t> n = IntegerReply(*r.element[0], "XDEL");
    if (!n.ok()) return n.status();
    if (absl::Status s = IntegerReply(*r.element[2], "INCR").status(); !s.ok()) return s;
    deleted += *n;
  }
  return deleted;
}

// Matches feedback and dead-letter entries of the client (the entry's protobuf names it).
std::function<bool(const redisReply&)> FeedbackOf(const std::string& tenant,
                                                  const std::string& client, int partition,
                                                  Found* found) {
  return [&tenant, &client, partition, found](const redisReply& fields) {
    if (Field(fields, "tenant") != tenant) return false;
    std::string_view bytes = Field(fields, "entry");
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
absl::Status IndexedDyads(RedisConnection& redis, const KeyLayout& layout, int partition,
                          const std::string& tenant, const std::string& client,
                          const ErasureLimits& limits, Found* found) {
  std::string cursor = "0";
  const std::string pattern = absl::StrCat("*:", client);
  const std::string count = std::to_string(limits.page);
  for (int64_t round = 0; round < limits.max_rounds; ++round) {
    absl::StatusOr<RedisReplyPtr> reply = redis.Command(
        {"ZSCAN", layout.DyadIndex(partition, tenant), cursor, "MATCH", pattern, "COUNT", count});
    if (!reply.ok()) return reply.status();
    if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 ||
        r.element[0]->type != REDIS_REPLY_STRING || r.element[1]->type != REDIS_REPLY_ARRAY) {
      return absl::InternalError("bad ZSCAN");
    }
    cursor = std::string(ReplyString(*r.element[0]));
    const redisReply& members = *r.element[1];
    for (size_t i = 0; i + 1 < members.elements; i += 2) {
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

// Keys matching `pattern` (SCAN), handed to `visit` page by page.
absl::Status ScanKeys(RedisConnection& redis, const std::string& pattern,
                      const ErasureLimits& limits,
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
      return absl::InternalError("bad SCAN");
    }
    cursor = std::string(ReplyString(*r.element[0]));
    std::vector<std::string> keys;
    for (size_t i = 0; i < r.element[1]->elements; ++i) {
      if (r.element[1]->element[i]->type != REDIS_REPLY_STRING) {
        return absl::InternalError("bad SCAN key");
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

absl::StatusOr<int64_t> Delete(RedisConnection& redis, const std::vector<std::string>& keys) {
  if (keys.empty()) return 0;
  std::vector<std::string_view> del = {"DEL"};
  for (const std::string& k : keys) del.push_back(k);
  return IntegerCommand(redis, del);
}

}  // namespace

absl::StatusOr<alliance::v1::DeleteClientDataResponse> EraseClient(RedisConnection& redis,
                                                                   const KeyLayout& layout,
                                                                   const std::string& tenant,
                                                                   const std::string& client,
                                                                   ErasureLimits limits) {
  alliance::v1::DeleteClientDataResponse removed;
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
      if (dead) {
        removed.set_dead_letters(removed.dead_letters() + *n);
      } else {
        removed.set_feedback_entries(removed.feedback_entries() + *n);
      }
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
        ReadStoredDyad(redis, layout, p, tenant, therapist, client);
    // An unreadable record is deleted all the same; its ids are then found in the streams only.
    if (!stored.ok() && stored.status().code() != absl::StatusCode::kDataLoss) {
      return stored.status();
    }
    if (stored.ok() && stored->has_value()) {
      const DyadRecord& record = (*stored)->record;
      for (const auto& rating : record.ratings()) found.accepted_ids.insert(rating.rating_id());
      for (const auto& alert : record.alerts()) found.alert_ids.insert(alert.alert_id());
    }
    // Head and log in one command: no moment where one exists without the other.
    absl::StatusOr<int64_t> n = Delete(redis, {layout.DyadState(p, tenant, therapist, client),
                                               layout.DyadLog(p, tenant, therapist, client)});
    if (!n.ok()) return n.status();
    removed.set_dyad_states(removed.dyad_states() + (*n > 0 ? 1 : 0));
    absl::StatusOr<int64_t> zrem = IntegerCommand(
        redis, {"ZREM", layout.DyadIndex(p, tenant), absl::StrCat(therapist, ":", client)});
    if (!zrem.ok()) return zrem.status();
    removed.set_dyad_index_entries(removed.dyad_index_entries() + *zrem);
  }
  // 3. Alert stream entries (they name the client) and the workflow status of each alert.
  for (int p = 0; p < layout.partitions(); ++p) {
    std::string stream = layout.AlertStream(p);
    absl::StatusOr<std::vector<std::string>> ids = MatchingEntries(
        redis, stream, limits, [&tenant, &client, &found](const redisReply& fields) {
          if (Field(fields, "tenant") != tenant || Field(fields, "client") != client) return false;
          found.alert_ids.insert(std::string(Field(fields, "alert_id")));
          return true;
        });
    if (!ids.ok()) return ids.status();
    absl::StatusOr<int64_t> n = DeleteEntries(redis, stream, *ids, std::string());
    if (!n.ok()) return n.status();
    removed.set_alert_entries(removed.alert_entries() + *n);
  }
  std::vector<std::string> status_keys;
  for (const std::string& id : found.alert_ids)
    status_keys.push_back(layout.AlertStatus(tenant, id));
  absl::StatusOr<int64_t> statuses = Delete(redis, status_keys);
  if (!statuses.ok()) return statuses.status();
  removed.set_alert_statuses(*statuses);
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
    absl::Status scanned =
        ScanKeys(redis, pattern, limits, [&](const std::vector<std::string>& keys) -> absl::Status {
          for (const std::string& k : keys) redis.Append({"GET", k});
          absl::StatusOr<std::vector<RedisReplyPtr>> values = redis.GetReplies(keys.size());
          if (!values.ok()) return values.status();
          for (size_t i = 0; i < keys.size(); ++i) {
            const std::string& k = keys[i];
            const redisReply& value = *(*values)[i];
            // An error reply (a key of another type) or nil: not an idempotency record.
            if (value.type != REDIS_REPLY_STRING) continue;
            std::optional<IdempotencyRecord> record = IdempotencyRecord::Parse(ReplyString(value));
            if (record && found.accepted_ids.count(record->accepted_id) > 0) {
              idem_keys.push_back(k);
            }
          }
          return absl::OkStatus();
        });
    if (!scanned.ok()) return scanned;
  }
  std::sort(idem_keys.begin(), idem_keys.end());
  idem_keys.erase(std::unique(idem_keys.begin(), idem_keys.end()), idem_keys.end());
  absl::StatusOr<int64_t> idem = Delete(redis, idem_keys);
  if (!idem.ok()) return idem.status();
  removed.set_idempotency_records(*idem);
  return removed;
}

}  // namespace alliance::insights
