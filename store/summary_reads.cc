// Therapist summary reads (see summary_reads.h).
#include "store/summary_reads.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace alliance {
namespace {

absl::Status CheckArray(const redisReply& reply, std::string_view what) {
  if (absl::Status s = ReplyStatus(reply); !s.ok()) return s;
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements % 2 != 0) {
    return absl::InternalError(absl::StrCat("summary: unexpected ", Absl(what), " reply"));
  }
  for (size_t i = 0; i < reply.elements; ++i) {
    if (reply.element[i]->type != REDIS_REPLY_STRING) {
      return absl::InternalError(absl::StrCat("summary: unexpected ", Absl(what), " element"));
    }
  }
  return absl::OkStatus();
}

absl::Status AddHash(const redisReply& reply, analytics::SummaryCounts* out) {
  if (absl::Status s = CheckArray(reply, "HGETALL"); !s.ok()) return s;
  for (size_t i = 0; i < reply.elements; i += 2) {
    absl::Status s =
        out->AddField(ReplyString(*reply.element[i]), ReplyString(*reply.element[i + 1]));
    if (!s.ok()) return absl::InternalError(absl::StrCat("summary: ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SummaryTherapistPage> ListSummaryTherapists(RedisExecutor& redis,
                                                           const KeyLayout& layout,
                                                           const std::string& tenant,
                                                           const std::string& after, size_t limit) {
  // Every partition's set (the members are therapist ids, scores their dyads there): the
  // therapists of a tenant are few, so each set is read whole.
  std::vector<std::string> keys;
  std::vector<SlotCommand> commands;
  keys.reserve(static_cast<size_t>(layout.partitions()));
  for (int p = 0; p < layout.partitions(); ++p) keys.push_back(layout.SummaryTherapists(p, tenant));
  for (const std::string& key : keys) {
    commands.push_back({redis.SlotOf(key), {"ZRANGE", key, "0", "-1"}});
  }
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.ReadPipeline(commands);
  if (!replies.ok()) return replies.status();
  std::set<std::string> all;
  for (const RedisReplyPtr& reply : *replies) {
    if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
    if (reply->type != REDIS_REPLY_ARRAY) {
      return absl::InternalError("summary: unexpected ZRANGE reply");
    }
    for (size_t i = 0; i < reply->elements; ++i) {
      if (reply->element[i]->type != REDIS_REPLY_STRING) {
        return absl::InternalError("summary: unexpected ZRANGE element");
      }
      all.emplace(ReplyString(*reply->element[i]));
    }
  }
  SummaryTherapistPage page;
  for (auto it = after.empty() ? all.begin() : all.upper_bound(after); it != all.end(); ++it) {
    if (page.therapists.size() == limit) {
      page.more = true;
      break;
    }
    page.therapists.push_back(*it);
  }
  return page;
}

absl::StatusOr<SummarySums> ReadSummarySums(RedisExecutor& redis, const KeyLayout& layout,
                                            const std::string& tenant,
                                            std::span<const std::string> therapists) {
  const size_t per_partition = 1 + therapists.size();
  std::vector<std::string> keys;
  keys.reserve(per_partition * static_cast<size_t>(layout.partitions()));
  for (int p = 0; p < layout.partitions(); ++p) {
    keys.push_back(layout.TenantSummary(p, tenant));
    for (const std::string& th : therapists) keys.push_back(layout.TherapistSummary(p, tenant, th));
  }
  std::vector<SlotCommand> commands;
  commands.reserve(keys.size());
  for (const std::string& key : keys) commands.push_back({redis.SlotOf(key), {"HGETALL", key}});
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.ReadPipeline(commands);
  if (!replies.ok()) return replies.status();
  SummarySums sums;
  sums.therapists.resize(therapists.size());
  // Every reply was read; judge them in order.
  for (size_t i = 0; i < replies->size(); ++i) {
    const size_t k = i % per_partition;
    analytics::SummaryCounts* into = k == 0 ? &sums.tenant : &sums.therapists[k - 1];
    if (absl::Status s = AddHash(*(*replies)[i], into); !s.ok()) return s;
  }
  return sums;
}

}  // namespace alliance
