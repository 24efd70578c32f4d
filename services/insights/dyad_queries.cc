// Dyad reads. The listing walks the per-partition sorted sets (all scores 0, so ordered by
// member) with ZRANGE BYLEX from the page token, merges them, and keeps only members below the
// smallest "last member" of any partition that returned a full batch: beyond that point
// another partition may still hold smaller members.
#include "services/insights/dyad_queries.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "services/insights/tokens.h"
#include "store/dyad_record_io.h"

namespace alliance::insights {
namespace {

using alliance::internal::v1::DyadRecord;

struct Member {
  std::string text;  // "therapist:client"
  int partition = 0;
};

bool Keep(const DyadListQuery& query, const alliance::v1::Dyad& dyad) {
  if (query.at_risk_only && !dyad.at_risk()) return false;
  if (query.open_rupture_only && dyad.open_ruptures() == 0) return false;
  if (query.unrepaired_only && !dyad.unrepaired()) return false;
  return true;
}

// One merged batch of index members after `lower` (a ZRANGE BYLEX bound). `complete` is set
// when no partition has members beyond the batch.
absl::StatusOr<std::vector<Member>> NextMembers(RedisExecutor& redis, const KeyLayout& layout,
                                                const DyadListQuery& query,
                                                const std::string& lower, int batch,
                                                bool* complete) {
  std::string upper = query.therapist.empty() ? "+" : absl::StrCat("(", query.therapist, ";");
  std::string count = std::to_string(batch);
  std::vector<std::string> keys;
  for (int p = 0; p < layout.partitions(); ++p) keys.push_back(layout.DyadIndex(p, query.tenant));
  std::vector<SlotCommand> commands;
  for (const std::string& key : keys) {
    commands.push_back(
        {redis.SlotOf(key), {"ZRANGE", key, lower, upper, "BYLEX", "LIMIT", "0", count}});
  }
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.ReadPipeline(commands);
  if (!replies.ok()) return replies.status();
  for (const RedisReplyPtr& reply : *replies) {
    if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
    if (reply->type != REDIS_REPLY_ARRAY) return absl::InternalError("unexpected ZRANGE reply");
  }
  std::vector<Member> merged;
  std::optional<std::string> bound;  // members above this are not safe to return yet
  for (int p = 0; p < layout.partitions(); ++p) {
    const redisReply& r = *(*replies)[p];
    for (size_t i = 0; i < r.elements; ++i) {
      if (r.element[i]->type != REDIS_REPLY_STRING) {
        return absl::InternalError("unexpected ZRANGE member");
      }
      merged.push_back({std::string(ReplyString(*r.element[i])), p});
    }
    if (static_cast<int>(r.elements) == batch && r.elements > 0) {
      std::string last(ReplyString(*r.element[r.elements - 1]));
      if (!bound || last < *bound) bound = std::move(last);
    }
  }
  std::sort(merged.begin(), merged.end(),
            [](const Member& a, const Member& b) { return a.text < b.text; });
  if (bound) {
    merged.erase(std::upper_bound(merged.begin(), merged.end(), *bound,
                                  [](const std::string& v, const Member& m) { return v < m.text; }),
                 merged.end());
  }
  *complete = !bound.has_value();
  return merged;
}

}  // namespace

absl::StatusOr<std::optional<StoredDyad>> ReadDyad(RedisExecutor& redis, const KeyLayout& layout,
                                                   int partition, std::string_view tenant,
                                                   std::string_view therapist,
                                                   std::string_view client) {
  // The read of store/dyad_record_io.h (head and log in one MGET: one slot).
  const std::string head = layout.DyadState(partition, tenant, therapist, client);
  const std::string log = layout.DyadLog(partition, tenant, therapist, client);
  absl::StatusOr<RedisReplyPtr> reply = redis.Command(redis.SlotOf(head), {"MGET", head, log});
  if (!reply.ok()) return reply.status();
  return ParseStoredDyad(**reply);
}

absl::StatusOr<DyadRecord> LoadDyad(RedisExecutor& redis, const KeyLayout& layout,
                                    std::string_view tenant, std::string_view therapist,
                                    std::string_view client) {
  int partition = layout.PartitionOf(tenant, therapist, client);
  absl::StatusOr<std::optional<StoredDyad>> stored =
      ReadDyad(redis, layout, partition, tenant, therapist, client);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value() || (*stored)->record.tenant_id() != tenant) {
    return absl::NotFoundError("dyad not found");
  }
  return std::move((*stored)->record);
}

absl::Status ListDyadsPage(RedisExecutor& redis, const KeyLayout& layout,
                           const DyadListQuery& query, alliance::v1::ListDyadsResponse* response) {
  std::string lower;
  if (!query.after.empty()) {
    lower = absl::StrCat("(", query.after);
  } else if (!query.therapist.empty()) {
    lower = absl::StrCat("[", query.therapist, ":");
  } else {
    lower = "-";
  }
  const bool filtered = query.at_risk_only || query.open_rupture_only || query.unrepaired_only;
  const int batch = filtered ? std::max(query.page_size, 200) : query.page_size + 1;
  int examined = 0;
  std::string last_examined;
  // Bounded: every round examines at least one member or ends the walk.
  while (examined < query.max_examined) {
    bool complete = false;
    absl::StatusOr<std::vector<Member>> members =
        NextMembers(redis, layout, query, lower, batch, &complete);
    if (!members.ok()) return members.status();
    if (members->empty()) return absl::OkStatus();  // walked to the end: no token
    std::vector<std::string> heads;
    heads.reserve(members->size());
    for (const Member& m : *members) {
      size_t colon = m.text.find(':');
      std::string therapist = m.text.substr(0, colon);
      std::string client = colon == std::string::npos ? "" : m.text.substr(colon + 1);
      // The head alone: the picture is there (store/dyad_record_io.h).
      heads.push_back(layout.DyadState(m.partition, query.tenant, therapist, client));
    }
    std::vector<SlotCommand> gets;
    gets.reserve(heads.size());
    for (const std::string& head : heads) gets.push_back({redis.SlotOf(head), {"GET", head}});
    absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.ReadPipeline(gets);
    if (!replies.ok()) return replies.status();
    for (const RedisReplyPtr& reply : *replies) {
      if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
    }
    for (size_t i = 0; i < members->size(); ++i) {
      const std::string& member = (*members)[i].text;
      if (response->dyads_size() == query.page_size) {
        // A further member exists: the page ends before it.
        response->set_next_page_token(EncodeDyadPageToken(last_examined));
        return absl::OkStatus();
      }
      last_examined = member;
      ++examined;
      const redisReply& r = *(*replies)[i];
      if (r.type != REDIS_REPLY_STRING) continue;  // indexed but not yet written: skip
      DyadRecord record;
      if (!record.ParseFromArray(r.str, static_cast<int>(r.len))) continue;
      if (record.tenant_id() != query.tenant) continue;
      if (!Keep(query, record.picture())) continue;
      *response->add_dyads() = record.picture();
    }
    if (complete) return absl::OkStatus();
    lower = absl::StrCat("(", last_examined);
  }
  response->set_next_page_token(EncodeDyadPageToken(last_examined));
  return absl::OkStatus();
}

}  // namespace alliance::insights
