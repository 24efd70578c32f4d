// Alert listing as a k-way merge over XREVRANGE batches: the newest head across partitions is
// taken next, and a partition whose batch ran out is refilled before anything else is taken,
// so the result is ordered by stream id even though the partitions are read in batches.
#include "services/insights/alert_queries.h"

#include <deque>
#include <limits>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/insights/alert_status.h"
#include "services/insights/dyad_queries.h"

namespace alliance::insights {
namespace {

constexpr int kBatch = 256;
constexpr std::string_view kBatchText = "256";
constexpr StreamId kNewest{std::numeric_limits<uint64_t>::max(),
                           std::numeric_limits<uint64_t>::max()};

// Newest-first reader of every partition's alert stream from a walk position.
class AlertMerger {
 public:
  AlertMerger(RedisExecutor& redis, const KeyLayout& layout, AlertWalk walk, bool parse)
      : redis_(redis), layout_(layout), walk_(std::move(walk)), parse_(parse) {
    if (walk_.empty()) walk_.assign(layout.partitions(), kNewest);
    buffers_.resize(walk_.size());
    exhausted_.assign(walk_.size(), false);
  }

  // The next entry (newest first), or nullptr when every partition is exhausted.
  absl::StatusOr<std::unique_ptr<AlertEntry>> Next() {
    if (absl::Status s = Refill(); !s.ok()) return s;
    int best = -1;
    for (size_t p = 0; p < buffers_.size(); ++p) {
      if (buffers_[p].empty()) continue;
      if (best < 0 || buffers_[p].front()->id > buffers_[best].front()->id) best = p;
    }
    if (best < 0) return nullptr;
    std::unique_ptr<AlertEntry> entry = std::move(buffers_[best].front());
    buffers_[best].pop_front();
    walk_[best] = entry->id;
    return entry;
  }

  // Position after the entries returned so far.
  const AlertWalk& walk() const { return walk_; }
  bool exhausted() const {
    for (size_t p = 0; p < walk_.size(); ++p) {
      if (walk_[p] || !buffers_[p].empty()) return false;
    }
    return true;
  }

 private:
  // Fetches the next batch of every partition whose buffer is empty and that is not
  // exhausted, in one pipelined round trip (on a cluster, one exchange per partition).
  absl::Status Refill() {
    std::vector<int> asked;
    std::vector<std::string> keys;
    std::vector<std::string> uppers;
    for (size_t p = 0; p < walk_.size(); ++p) {
      if (!buffers_[p].empty() || !walk_[p] || exhausted_[p]) continue;
      keys.push_back(layout_.AlertStream(p));
      uppers.push_back(*walk_[p] == kNewest ? "+" : absl::StrCat("(", walk_[p]->ToString()));
      asked.push_back(p);
    }
    if (asked.empty()) return absl::OkStatus();
    std::vector<SlotCommand> commands;
    for (size_t a = 0; a < asked.size(); ++a) {
      commands.push_back(
          {redis_.SlotOf(keys[a]), {"XREVRANGE", keys[a], uppers[a], "-", "COUNT", kBatchText}});
    }
    absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis_.ReadPipeline(commands);
    if (!replies.ok()) return replies.status();
    for (size_t i = 0; i < asked.size(); ++i) {
      if (absl::Status s = ReplyStatus(*(*replies)[i]); !s.ok()) return s;
    }
    for (size_t a = 0; a < asked.size(); ++a) {
      const int p = asked[a];
      const redisReply& r = *(*replies)[a];
      if (r.type != REDIS_REPLY_ARRAY) return absl::InternalError("unexpected XREVRANGE reply");
      size_t n = r.elements;
      for (size_t i = 0; i < n; ++i) {
        std::unique_ptr<AlertEntry> entry = ParseAlertEntry(p, *r.element[i], parse_);
        if (entry != nullptr) buffers_[p].push_back(std::move(entry));
      }
      if (n < static_cast<size_t>(kBatch)) exhausted_[p] = true;
      if (buffers_[p].empty()) walk_[p] = std::nullopt;
    }
    return absl::OkStatus();
  }

  RedisExecutor& redis_;
  const KeyLayout& layout_;
  AlertWalk walk_;
  const bool parse_;
  std::vector<std::deque<std::unique_ptr<AlertEntry>>> buffers_;
  std::vector<bool> exhausted_;
};

struct Candidate {
  alliance::v1::Alert alert;
  AlertWalk walk_after;
};

// Applies statuses to `pending`, moves those passing the status filter into the page, and
// sets the page token when the page filled up before the last candidate.
absl::Status Flush(RedisExecutor& redis, const KeyLayout& layout, const AlertListQuery& query,
                   std::vector<Candidate>* pending, alliance::v1::ListAlertsResponse* response,
                   bool* full) {
  std::vector<alliance::v1::Alert*> alerts;
  for (Candidate& c : *pending) alerts.push_back(&c.alert);
  if (absl::Status s = OverlayStatuses(redis, layout, query.filter.tenant, alerts); !s.ok()) {
    return s;
  }
  for (Candidate& c : *pending) {
    if (query.status != alliance::v1::ALERT_STATUS_UNSPECIFIED &&
        c.alert.status() != query.status) {
      continue;
    }
    *response->add_alerts() = std::move(c.alert);
    if (response->alerts_size() == query.page_size) {
      response->set_next_page_token(EncodeAlertPageToken(c.walk_after));
      *full = true;
      break;
    }
  }
  pending->clear();
  return absl::OkStatus();
}

}  // namespace

absl::Status ListAlertsPage(RedisExecutor& redis, const KeyLayout& layout,
                            const AlertListQuery& query,
                            alliance::v1::ListAlertsResponse* response) {
  AlertMerger merger(redis, layout, query.walk, /*parse=*/false);
  std::vector<Candidate> pending;
  bool full = false;
  int examined = 0;
  while (!full && examined < query.max_examined) {
    absl::StatusOr<std::unique_ptr<AlertEntry>> next = merger.Next();
    if (!next.ok()) return next.status();
    if (*next == nullptr) break;
    ++examined;
    AlertEntry& entry = **next;
    if (!query.filter.MatchesHeader(entry)) continue;
    // Parsed only now: other tenants' alerts are never decoded.
    ParseAlertBody(&entry);
    if (!query.filter.Matches(entry)) continue;
    pending.push_back({*entry.alert, merger.walk()});
    if (static_cast<int>(pending.size()) + response->alerts_size() >= query.page_size) {
      if (absl::Status s = Flush(redis, layout, query, &pending, response, &full); !s.ok()) {
        return s;
      }
    }
  }
  if (!full && !pending.empty()) {
    if (absl::Status s = Flush(redis, layout, query, &pending, response, &full); !s.ok()) return s;
  }
  if (!full && examined >= query.max_examined && !merger.exhausted()) {
    response->set_next_page_token(EncodeAlertPageToken(merger.walk()));
  }
  return absl::OkStatus();
}

absl::StatusOr<alliance::v1::Alert> FindAlert(RedisExecutor& redis, const KeyLayout& layout,
                                              std::string_view tenant, std::string_view alert_id,
                                              std::string_view therapist, std::string_view client,
                                              int max_examined) {
  alliance::v1::Alert found;
  bool have = false;
  if (!therapist.empty() && !client.empty()) {
    absl::StatusOr<alliance::internal::v1::DyadRecord> record =
        LoadDyad(redis, layout, tenant, therapist, client);
    if (!record.ok() && record.status().code() != absl::StatusCode::kNotFound) {
      return record.status();
    }
    if (record.ok()) {
      for (const alliance::v1::Alert& alert : record->alerts()) {
        if (alert.alert_id() == alert_id) {
          found = alert;
          have = true;
          break;
        }
      }
    }
  } else {
    AlertMerger merger(redis, layout, {}, /*parse=*/false);
    for (int examined = 0; examined < max_examined && !have; ++examined) {
      absl::StatusOr<std::unique_ptr<AlertEntry>> next = merger.Next();
      if (!next.ok()) return next.status();
      if (*next == nullptr) break;
      if ((*next)->alert_id != alert_id || (*next)->tenant != tenant) continue;
      ParseAlertBody(next->get());
      if ((*next)->alert == nullptr) continue;
      found = *(*next)->alert;
      have = true;
    }
  }
  if (!have || found.tenant_id() != tenant) return absl::NotFoundError("alert not found");
  std::vector<alliance::v1::Alert*> one = {&found};
  if (absl::Status s = OverlayStatuses(redis, layout, tenant, one); !s.ok()) return s;
  return found;
}

}  // namespace alliance::insights
