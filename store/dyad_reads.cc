// Dyad reads; see dyad_reads.h. The listing walks the per-partition sorted sets (all scores 0,
// so ordered by member) with ZRANGE BYLEX.
#include "store/dyad_reads.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace alliance {
namespace {

using alliance::internal::v1::DyadRecord;

struct Member {
  std::string text;  // "therapist:client"
  int partition = 0;
};

bool Keep(const DyadListing& listing, const alliance::v1::Dyad& dyad) {
  if (listing.at_risk_only && !dyad.at_risk()) return false;
  if (listing.open_rupture_only && dyad.open_ruptures() == 0) return false;
  if (listing.unrepaired_only && !dyad.unrepaired()) return false;
  return true;
}

// One merged batch of index members after `lower` (a ZRANGE BYLEX bound). `complete` is set
// when no partition has members beyond the batch.
absl::StatusOr<std::vector<Member>> NextMembers(RedisExecutor& redis, const KeyLayout& layout,
                                                const DyadListing& listing,
                                                const std::string& lower, int batch,
                                                bool* complete) {
  std::string upper = listing.therapist.empty() ? "+" : absl::StrCat("(", listing.therapist, ";");
  std::string count = std::to_string(batch);
  std::vector<std::string> keys;
  for (int p = 0; p < layout.partitions(); ++p) {
    keys.push_back(layout.DyadIndex(p, listing.tenant));
  }
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
    for (size_t i = 0; i < reply->elements; ++i) {
      if (reply->element[i]->type != REDIS_REPLY_STRING) {
        return absl::InternalError("unexpected ZRANGE member");
      }
    }
  }
  std::vector<Member> merged;
  std::optional<std::string> bound;  // members above this are not safe to return yet
  for (int p = 0; p < layout.partitions(); ++p) {
    const redisReply& r = *(*replies)[p];
    for (size_t i = 0; i < r.elements; ++i) {
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

// The heads of `members` (GET each, one pipeline): nullopt for a member without a readable
// head.
absl::StatusOr<std::vector<std::optional<DyadRecord>>> ReadHeads(
    RedisExecutor& redis, const KeyLayout& layout, std::string_view tenant,
    const std::vector<Member>& members) {
  std::vector<std::string> heads;
  heads.reserve(members.size());
  for (const Member& m : members) {
    size_t colon = m.text.find(':');
    std::string therapist = m.text.substr(0, colon);
    std::string client = colon == std::string::npos ? "" : m.text.substr(colon + 1);
    // The head alone: the picture is there (store/dyad_record_io.h).
    heads.push_back(layout.DyadState(m.partition, tenant, therapist, client));
  }
  std::vector<SlotCommand> gets;
  gets.reserve(heads.size());
  for (const std::string& head : heads) gets.push_back({redis.SlotOf(head), {"GET", head}});
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.ReadPipeline(gets);
  if (!replies.ok()) return replies.status();
  for (const RedisReplyPtr& reply : *replies) {
    if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
    if (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_NIL) {
      return absl::InternalError("unexpected GET reply for a dyad head");
    }
  }
  std::vector<std::optional<DyadRecord>> records(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    const redisReply& r = *(*replies)[i];
    if (r.type != REDIS_REPLY_STRING) continue;  // indexed but not yet written
    DyadRecord record;
    if (record.ParseFromArray(r.str, static_cast<int>(r.len))) records[i] = std::move(record);
  }
  return records;
}

}  // namespace

absl::StatusOr<std::optional<StoredDyad>> ReadDyad(RedisExecutor& redis, const KeyLayout& layout,
                                                   int partition, std::string_view tenant,
                                                   std::string_view therapist,
                                                   std::string_view client) {
  // Head and log in one MGET: they share the partition's hash tag, so one slot.
  const std::string head = layout.DyadState(partition, tenant, therapist, client);
  const std::string log = layout.DyadLog(partition, tenant, therapist, client);
  absl::StatusOr<RedisReplyPtr> reply = redis.Command(redis.SlotOf(head), {"MGET", head, log});
  if (!reply.ok()) return reply.status();
  return ParseStoredDyad(**reply);
}

absl::StatusOr<DyadRecord> ReadTenantDyad(RedisExecutor& redis, const KeyLayout& layout,
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

absl::StatusOr<DyadPage> ListTenantDyads(RedisExecutor& redis, const KeyLayout& layout,
                                         const DyadListing& listing) {
  std::string lower;
  if (!listing.after.empty()) {
    lower = absl::StrCat("(", listing.after);
  } else if (!listing.therapist.empty()) {
    lower = absl::StrCat("[", listing.therapist, ":");
  } else {
    lower = "-";
  }
  const bool filtered =
      listing.at_risk_only || listing.open_rupture_only || listing.unrepaired_only;
  const int batch = filtered ? std::max(listing.page_size, 200) : listing.page_size + 1;
  DyadPage page;
  int examined = 0;
  std::string last_examined;
  // Bounded: every round examines at least one member or ends the walk.
  while (examined < listing.max_examined) {
    bool complete = false;
    absl::StatusOr<std::vector<Member>> members =
        NextMembers(redis, layout, listing, lower, batch, &complete);
    if (!members.ok()) return members.status();
    if (members->empty()) return page;  // walked to the end
    absl::StatusOr<std::vector<std::optional<DyadRecord>>> records =
        ReadHeads(redis, layout, listing.tenant, *members);
    if (!records.ok()) return records.status();
    for (size_t i = 0; i < members->size(); ++i) {
      if (static_cast<int>(page.dyads.size()) == listing.page_size) {
        // A further member exists: the page ends before it.
        page.resume_after = last_examined;
        return page;
      }
      last_examined = (*members)[i].text;
      ++examined;
      const std::optional<DyadRecord>& record = (*records)[i];
      if (!record || record->tenant_id() != listing.tenant) continue;
      if (!Keep(listing, record->picture())) continue;
      page.dyads.push_back(record->picture());
    }
    if (complete) return page;
    lower = absl::StrCat("(", last_examined);
  }
  page.resume_after = last_examined;
  return page;
}

}  // namespace alliance
