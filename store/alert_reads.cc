// Alert stream reads for queries; see alert_reads.h.
#include "store/alert_reads.h"

#include <algorithm>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace alliance {
namespace {

constexpr size_t kBatch = 256;
constexpr std::string_view kBatchText = "256";
constexpr StreamId kNewest{std::numeric_limits<uint64_t>::max(),
                           std::numeric_limits<uint64_t>::max()};

// Every reply an array (of stream entries); the first error reply, or INTERNAL naming `command`.
absl::Status CheckArrays(const std::vector<RedisReplyPtr>& replies, std::string_view command) {
  for (const RedisReplyPtr& reply : replies) {
    if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
    if (reply->type != REDIS_REPLY_ARRAY) {
      return absl::InternalError(absl::StrCat("unexpected ", Absl(command), " reply"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

NewestAlertsFirst::NewestAlertsFirst(RedisExecutor& redis, const KeyLayout& layout, AlertWalk walk,
                                     bool parse_bodies)
    : redis_(redis), layout_(layout), walk_(std::move(walk)), parse_(parse_bodies) {
  if (walk_.empty()) walk_.assign(layout.partitions(), kNewest);
  buffers_.resize(walk_.size());
  exhausted_.assign(walk_.size(), false);
}

absl::StatusOr<std::unique_ptr<AlertEntry>> NewestAlertsFirst::Next() {
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

bool NewestAlertsFirst::exhausted() const {
  for (size_t p = 0; p < walk_.size(); ++p) {
    if (walk_[p] || !buffers_[p].empty()) return false;
  }
  return true;
}

absl::Status NewestAlertsFirst::Refill() {
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
  if (absl::Status s = CheckArrays(*replies, "XREVRANGE"); !s.ok()) return s;
  for (size_t a = 0; a < asked.size(); ++a) {
    const int p = asked[a];
    const redisReply& r = *(*replies)[a];
    for (size_t i = 0; i < r.elements; ++i) {
      std::unique_ptr<AlertEntry> entry = ParseAlertEntry(p, *r.element[i], parse_);
      if (entry != nullptr) buffers_[p].push_back(std::move(entry));
    }
    if (r.elements < kBatch) exhausted_[p] = true;
    if (buffers_[p].empty()) walk_[p] = std::nullopt;
  }
  return absl::OkStatus();
}

absl::StatusOr<AlertRangeEntries> ReadAlertRanges(RedisExecutor& redis, const KeyLayout& layout,
                                                  std::span<const AlertRange> ranges,
                                                  size_t count) {
  const std::string count_text = std::to_string(count);
  std::vector<std::string> keys;
  std::vector<std::string> lowers;
  std::vector<std::string> uppers;
  for (const AlertRange& range : ranges) {
    keys.push_back(layout.AlertStream(range.partition));
    lowers.push_back(absl::StrCat("(", range.after.ToString()));
    uppers.push_back(range.upto.ToString());
  }
  std::vector<SlotCommand> commands;
  for (size_t i = 0; i < ranges.size(); ++i) {
    commands.push_back(
        {redis.SlotOf(keys[i]), {"XRANGE", keys[i], lowers[i], uppers[i], "COUNT", count_text}});
  }
  AlertRangeEntries read;
  if (commands.empty()) return read;
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.ReadPipeline(commands);
  if (!replies.ok()) return replies.status();
  if (absl::Status s = CheckArrays(*replies, "XRANGE"); !s.ok()) return s;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const int p = ranges[i].partition;
    const redisReply& r = *(*replies)[i];
    for (size_t e = 0; e < r.elements; ++e) {
      std::unique_ptr<AlertEntry> entry = ParseAlertEntry(p, *r.element[e], false);
      if (entry != nullptr) read.entries.push_back(std::move(entry));
    }
    if (r.elements < count) read.finished.push_back(p);
  }
  std::stable_sort(read.entries.begin(), read.entries.end(),
                   [](const auto& a, const auto& b) { return a->id < b->id; });
  return read;
}

}  // namespace alliance
