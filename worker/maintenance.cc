// Periodic work of the partitions a worker owns: lag / pending / length metrics, retention, and
// the removal of other workers' idle consumers that hold nothing (a worker restarted under a
// new id would otherwise leave one consumer per partition behind, forever).
// Retention trims with XTRIM MINID, never above the oldest entry the group still needs: the
// oldest pending entry, or, with nothing pending, the group's last-delivered id (everything
// before it was delivered and acknowledged). Within that bound, acknowledged entries are kept
// for --retain_ms unless the stream is longer than --max_stream_length. The Redis side is
// store/stream_maintenance.h.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "store/stream_maintenance.h"
#include "worker/worker.h"

namespace alliance::worker {
namespace {

using StreamId = std::pair<uint64_t, uint64_t>;

bool ParseId(std::string_view text, StreamId* id) {
  std::vector<absl::string_view> parts = absl::StrSplit(Absl(text), '-');
  return parts.size() == 2 && absl::SimpleAtoi(parts[0], &id->first) &&
         absl::SimpleAtoi(parts[1], &id->second);
}

}  // namespace

absl::Status Worker::Maintenance() {
  absl::Time now = absl::Now();
  metrics_->dyad_cache_entries->Set(static_cast<double>(cache_.size()));

  std::vector<int> owned = OwnedPartitions();
  absl::StatusOr<std::vector<FeedbackStreamStats>> probed =
      ProbeFeedbackStreams(redis_->executor(), layout_, owned);
  if (!probed.ok()) return probed.status();
  std::vector<StreamTrim> trims;
  for (size_t o = 0; o < owned.size(); ++o) {
    const int p = owned[o];
    const FeedbackStreamStats& info = (*probed)[o];
    const int64_t length = info.length;
    PartitionMetrics& m = metrics_->partition[p];
    // Redis 7 cannot count the lag once entries were deleted from the stream (it answers nil):
    // NaN says "unknown" without a value an alert could mistake for a count.
    m.lag->Set(info.lag >= 0 ? static_cast<double>(info.lag)
                             : std::numeric_limits<double>::quiet_NaN());
    m.pending->Set(static_cast<double>(info.pending));
    m.stream_length->Set(static_cast<double>(length));
    m.dead_letter_length->Set(static_cast<double>(info.dead_letter_length));
    bool alarm = config_.max_stream_length > 0 &&
                 std::max<int64_t>(info.lag, 0) + info.pending > config_.max_stream_length;
    m.backlog_alarm->Set(alarm ? 1 : 0);

    if (!info.group_found) continue;
    // The oldest entry the group still needs.
    StreamId safe;
    if (info.pending > 0) {
      if (!ParseId(info.oldest_pending, &safe)) continue;
    } else if (!ParseId(info.last_delivered, &safe)) {
      continue;
    }
    StreamId target = safe;
    bool over_length = config_.max_stream_length > 0 && length > config_.max_stream_length;
    if (!over_length) {
      int64_t keep_from_ms = absl::ToUnixMillis(now - config_.retain);
      StreamId by_age{static_cast<uint64_t>(std::max<int64_t>(keep_from_ms, 0)), 0};
      target = std::min(safe, by_age);
    }
    if (target == StreamId{0, 0}) continue;
    trims.push_back({p, absl::StrCat(target.first, "-", target.second)});
  }
  // "~" lets Redis drop only whole internal nodes: cheap, and it never removes an entry at or
  // above MINID.
  absl::StatusOr<std::vector<bool>> trimmed =
      TrimFeedbackStreams(redis_->executor(), layout_, trims);
  if (!trimmed.ok()) return trimmed.status();
  for (size_t i = 0; i < trims.size(); ++i) {
    if ((*trimmed)[i]) metrics_->partition[trims[i].partition].trimmed->Increment();
  }
  if (absl::Status s = TrimDerivedByAge(owned, now); !s.ok()) return s;
  if (absl::Status s = EvaluateDueDisengagements(owned); !s.ok()) return s;
  if (config_.consumer_retire > absl::ZeroDuration() && now >= next_consumer_sweep_) {
    if (absl::Status s = RetireIdleConsumers(owned); !s.ok()) return s;
    // A quarter of the idle threshold, at most a minute, never more often than maintenance.
    next_consumer_sweep_ = now + std::max(config_.maintenance_interval,
                                          std::min(config_.consumer_retire / 4, absl::Minutes(1)));
  }
  return absl::OkStatus();
}

absl::Status Worker::RetireIdleConsumers(const std::vector<int>& owned) {
  // Bounds the script's work per partition and sweep; a longer list shrinks sweep by sweep.
  constexpr int kMaxPerSweep = 100;
  absl::StatusOr<std::vector<int64_t>> swept = alliance::RetireIdleConsumers(
      redis_->executor(), redis_->scripts(), layout_, config_.worker_id, config_.consumer_retire,
      kMaxPerSweep, owned);
  if (!swept.ok()) return swept.status();
  for (size_t i = 0; i < owned.size(); ++i) {
    const int p = owned[i];
    const int64_t retired = (*swept)[i];
    // -1: the lease moved on; the next lease round notices.
    if (retired <= 0) continue;
    metrics_->consumers_retired->Increment(static_cast<double>(retired));
    LogInfo("consumers_retired", {{"partition", int64_t{p}}, {"count", retired}});
  }
  return absl::OkStatus();
}

absl::Status Worker::TrimDerivedByAge(const std::vector<int>& owned, absl::Time now) {
  if (config_.data_retention <= absl::ZeroDuration()) return absl::OkStatus();
  // Alert and dead-letter entries older than the retention window (nobody consumes these
  // streams as a group, so age is the only bound).
  std::string min_id =
      absl::StrCat(std::max<int64_t>(absl::ToUnixMillis(now - config_.data_retention), 0), "-0");
  // Exact (no "~"): the cost is the entries removed, and nothing older than the window stays.
  return TrimDerivedStreams(redis_->executor(), layout_, owned, min_id);
}

}  // namespace alliance::worker
