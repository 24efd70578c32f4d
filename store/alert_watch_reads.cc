// The live alert reader's reads; see alert_watch_reads.h.
#include "store/alert_watch_reads.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "store/cluster_client.h"

namespace alliance {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Milliseconds of a TIME reply ([seconds, microseconds]); nullopt for anything else.
std::optional<uint64_t> TimeReplyMs(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2) return std::nullopt;
  uint64_t parts[2];
  for (size_t i = 0; i < 2; ++i) {
    const redisReply& e = *reply.element[i];
    if (e.type != REDIS_REPLY_STRING) return std::nullopt;
    auto [end, ec] = std::from_chars(e.str, e.str + e.len, parts[i]);
    if (ec != std::errc() || end != e.str + e.len) return std::nullopt;
  }
  return parts[0] * 1000 + parts[1] / 1000;
}

// The id of the newest entry from an XREVRANGE ... COUNT 1 reply (0-0 when there is none).
absl::StatusOr<StreamId> NewestId(int partition, const redisReply& reply) {
  if (absl::Status s = ReplyStatus(reply); !s.ok()) return s;
  if (reply.type != REDIS_REPLY_ARRAY) return absl::InternalError("unexpected XREVRANGE reply");
  if (reply.elements == 1) {
    std::unique_ptr<AlertEntry> newest = ParseAlertEntry(partition, *reply.element[0], false);
    if (newest != nullptr) return newest->id;
  }
  return StreamId{};
}

// The earliest clock reading of a round.
struct EarliestClock {
  std::optional<RedisClock> clock;
  void Take(uint64_t ms, SteadyClock::time_point sent) {
    if (!clock || ms < clock->ms) clock = RedisClock{ms, sent};
  }
};

// Entries of one stream of an XREAD reply ([key, [entry, ...]]) into `out`; true when the
// stream had `count` entries or more (more may be waiting).
absl::StatusOr<bool> TakeStream(int partition, const redisReply& stream, int count,
                                std::vector<std::shared_ptr<const AlertEntry>>* out) {
  if (stream.type != REDIS_REPLY_ARRAY || stream.elements != 2 ||
      stream.element[1]->type != REDIS_REPLY_ARRAY) {
    return absl::InternalError("unexpected XREAD reply: a stream is not [key, entries]");
  }
  const redisReply& entries = *stream.element[1];
  for (size_t e = 0; e < entries.elements; ++e) {
    std::unique_ptr<AlertEntry> entry = ParseAlertEntry(partition, *entries.element[e]);
    if (entry != nullptr) out->push_back(std::move(entry));
  }
  return entries.elements >= static_cast<size_t>(count);
}

// An XREAD reply of one partition's stream: nil (nothing new) or [[key, entries]].
absl::StatusOr<bool> TakePartition(int partition, const redisReply& reply, int count,
                                   std::vector<std::shared_ptr<const AlertEntry>>* out) {
  if (absl::Status s = ReplyStatus(reply); !s.ok()) return s;
  if (reply.type == REDIS_REPLY_NIL) return false;
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 1) {
    return absl::InternalError("unexpected XREAD reply");
  }
  return TakeStream(partition, *reply.element[0], count, out);
}

absl::StatusOr<NewAlerts> ReadNewAlertsSingle(RedisExecutor& redis, const KeyLayout& layout,
                                              const Positions& after,
                                              const NewAlertsOptions& options) {
  std::vector<std::string> keys;
  std::vector<std::string> ids;
  for (int p = 0; p < layout.partitions(); ++p) {
    keys.push_back(layout.AlertStream(p));
    ids.push_back(after[p].ToString());
  }
  const std::string count = std::to_string(options.count);
  const std::string block = std::to_string(absl::ToInt64Milliseconds(options.block));
  CommandArgs xread = {"XREAD", "COUNT", count, "BLOCK", block, "STREAMS"};
  for (const std::string& key : keys) xread.push_back(key);
  for (const std::string& id : ids) xread.push_back(id);
  // TIME runs right before XREAD: every entry below that time exists when XREAD runs.
  const CommandArgs commands[] = {{"TIME"}, xread};
  const SteadyClock::time_point sent = SteadyClock::now();
  absl::StatusOr<std::vector<RedisReplyPtr>> replies =
      redis.Exchange(redis.SlotOf(keys.front()), commands);
  if (!replies.ok()) return replies.status();
  const redisReply& r = *(*replies)[1];
  if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
  if (r.type != REDIS_REPLY_NIL && r.type != REDIS_REPLY_ARRAY) {
    return absl::InternalError("unexpected XREAD reply");
  }
  std::optional<uint64_t> redis_ms = TimeReplyMs(*(*replies)[0]);
  // The read covers everything below that time only if no stream had more entries than COUNT
  // let through.
  bool covered = redis_ms.has_value();
  NewAlerts read;
  for (size_t i = 0; r.type == REDIS_REPLY_ARRAY && i < r.elements; ++i) {
    const redisReply& stream = *r.element[i];
    if (stream.type != REDIS_REPLY_ARRAY || stream.elements != 2) {
      return absl::InternalError("unexpected XREAD reply: a stream is not [key, entries]");
    }
    auto it = std::find(keys.begin(), keys.end(), ReplyString(*stream.element[0]));
    if (it == keys.end()) return absl::InternalError("XREAD replied for a stream not asked for");
    absl::StatusOr<bool> full =
        TakeStream(static_cast<int>(it - keys.begin()), stream, options.count, &read.entries);
    if (!full.ok()) return full.status();
    if (*full) covered = false;
  }
  if (covered) read.covered = RedisClock{*redis_ms, sent};
  return read;
}

absl::StatusOr<NewAlerts> ReadNewAlertsCluster(RedisExecutor& redis, const KeyLayout& layout,
                                               const Positions& after,
                                               const NewAlertsOptions& options) {
  const size_t partitions = static_cast<size_t>(layout.partitions());
  std::vector<std::string> keys;
  std::vector<std::string> ids;
  for (size_t p = 0; p < partitions; ++p) {
    keys.push_back(layout.AlertStream(static_cast<int>(p)));
    ids.push_back(after[p].ToString());
  }
  const std::string count = std::to_string(options.count);
  NewAlerts read;
  EarliestClock clock;
  bool covered = true;
  std::vector<bool> done(partitions, false);

  // Fast path, with the cluster client's map: one pipeline per primary, TIME first (every
  // entry of that node's partitions below it exists when their XREADs run), then one XREAD per
  // partition the map says it serves; idle polling then costs a round trip per primary, not
  // per partition. A partition answered with an error (a redirection, TRYAGAIN...) or on a
  // node the walk did not reach goes to the exchanges below.
  if (auto* cluster_executor = dynamic_cast<ClusterExecutor*>(&redis)) {
    ClusterClient& cluster = cluster_executor->client();
    std::map<std::string, std::vector<size_t>> by_node;  // "host:port" -> partitions
    for (size_t p = 0; p < partitions; ++p) {
      if (const NodeAddress* primary = cluster.map().PrimaryOf(redis.SlotOf(keys[p]))) {
        by_node[primary->ToString()].push_back(p);
      }
    }
    // A failed walk (a node unreachable) leaves its partitions, and those of the nodes after
    // it, to the exchanges below.
    (void)cluster.ForEachPrimary([&](const NodeAddress& node, RedisConnection& connection) {
      auto it = by_node.find(node.ToString());
      if (it == by_node.end()) return absl::OkStatus();
      const std::vector<size_t>& served = it->second;
      const SteadyClock::time_point sent = SteadyClock::now();
      connection.Append({"TIME"});
      for (size_t p : served) {
        connection.Append({"XREAD", "COUNT", count, "STREAMS", keys[p], ids[p]});
      }
      // Every reply is read whatever each says, so the connection stays in step.
      absl::StatusOr<std::vector<RedisReplyPtr>> replies = connection.GetReplies(served.size() + 1);
      if (!replies.ok()) return replies.status();
      std::optional<uint64_t> redis_ms = TimeReplyMs(*(*replies)[0]);
      if (!redis_ms) return absl::OkStatus();
      clock.Take(*redis_ms, sent);
      for (size_t k = 0; k < served.size(); ++k) {
        std::vector<std::shared_ptr<const AlertEntry>> taken;
        absl::StatusOr<bool> full =
            TakePartition(static_cast<int>(served[k]), *(*replies)[k + 1], options.count, &taken);
        if (!full.ok()) continue;  // read again in an exchange below
        if (*full) covered = false;
        std::move(taken.begin(), taken.end(), std::back_inserter(read.entries));
        done[served[k]] = true;
      }
      return absl::OkStatus();
    });
  }

  // A primary that does not answer costs each of its partitions a whole call (bounded by the
  // client's call timeout): after the first, its other partitions wait for the next round, so
  // the partitions of the other primaries keep flowing during a failover.
  std::vector<std::string> failed_nodes;
  for (size_t p = 0; p < partitions; ++p) {
    if (done[p]) continue;
    const int slot = redis.SlotOf(keys[p]);
    std::optional<std::string> node;
    if (auto* cluster_executor = dynamic_cast<ClusterExecutor*>(&redis)) {
      if (const NodeAddress* primary = cluster_executor->client().map().PrimaryOf(slot)) {
        node = primary->ToString();
      }
    }
    if (node && std::find(failed_nodes.begin(), failed_nodes.end(), *node) != failed_nodes.end()) {
      covered = false;
      continue;
    }
    // TIME right before the read, on the same primary: every entry of this partition below it
    // exists when XREAD runs.
    const CommandArgs commands[] = {{"TIME"},
                                    {"XREAD", "COUNT", count, "STREAMS", keys[p], ids[p]}};
    const SteadyClock::time_point sent = SteadyClock::now();
    absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.Exchange(slot, commands);
    std::vector<std::shared_ptr<const AlertEntry>> taken;
    absl::StatusOr<bool> full =
        replies.ok() ? TakePartition(static_cast<int>(p), *(*replies)[1], options.count, &taken)
                     : absl::StatusOr<bool>(replies.status());
    if (!full.ok()) {
      covered = false;
      if (read.partial_failure.ok()) read.partial_failure = full.status();
      if (node) failed_nodes.push_back(*node);
      continue;
    }
    if (*full) covered = false;
    std::move(taken.begin(), taken.end(), std::back_inserter(read.entries));
    std::optional<uint64_t> redis_ms = TimeReplyMs(*(*replies)[0]);
    if (redis_ms) {
      clock.Take(*redis_ms, sent);
    } else {
      covered = false;
    }
  }
  if (covered && clock.clock) read.covered = clock.clock;
  return read;
}

}  // namespace

absl::StatusOr<AlertStreamEnds> ReadAlertStreamEnds(RedisExecutor& redis, const KeyLayout& layout) {
  const int partitions = layout.partitions();
  AlertStreamEnds ends;
  ends.newest.resize(partitions);
  if (!redis.cluster()) {
    // Redis's clock first: every entry below it exists when the XREVRANGEs run, so the ends
    // they find cover it.
    const SteadyClock::time_point sent = SteadyClock::now();
    absl::StatusOr<RedisReplyPtr> time = redis.Command(0, {"TIME"});
    if (!time.ok()) return time.status();
    std::optional<uint64_t> redis_ms = TimeReplyMs(**time);
    if (!redis_ms) return absl::InternalError("TIME: unexpected reply");
    ends.clock = RedisClock{*redis_ms, sent};
    std::vector<std::string> keys;
    for (int p = 0; p < partitions; ++p) keys.push_back(layout.AlertStream(p));
    std::vector<SlotCommand> commands;
    for (const std::string& key : keys) {
      commands.push_back({redis.SlotOf(key), {"XREVRANGE", key, "+", "-", "COUNT", "1"}});
    }
    absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.ReadPipeline(commands);
    if (!replies.ok()) return replies.status();
    for (int p = 0; p < partitions; ++p) {
      absl::StatusOr<StreamId> newest = NewestId(p, *(*replies)[p]);
      if (!newest.ok()) return newest.status();
      ends.newest[p] = *newest;
    }
    return ends;
  }
  // Per partition, as above: the clock of the partition's primary, then its newest entry.
  // Every entry of every partition below the earliest of those clocks is then covered.
  EarliestClock clock;
  for (int p = 0; p < partitions; ++p) {
    const std::string key = layout.AlertStream(p);
    const CommandArgs commands[] = {{"TIME"}, {"XREVRANGE", key, "+", "-", "COUNT", "1"}};
    const SteadyClock::time_point sent = SteadyClock::now();
    absl::StatusOr<std::vector<RedisReplyPtr>> replies =
        redis.Exchange(redis.SlotOf(key), commands);
    if (!replies.ok()) return replies.status();
    std::optional<uint64_t> redis_ms = TimeReplyMs(*(*replies)[0]);
    if (!redis_ms) return absl::InternalError("TIME: unexpected reply");
    clock.Take(*redis_ms, sent);
    absl::StatusOr<StreamId> newest = NewestId(p, *(*replies)[1]);
    if (!newest.ok()) return newest.status();
    ends.newest[p] = *newest;
  }
  if (clock.clock) ends.clock = *clock.clock;
  return ends;
}

absl::StatusOr<NewAlerts> ReadNewAlerts(RedisExecutor& redis, const KeyLayout& layout,
                                        const Positions& after, NewAlertsOptions options) {
  if (after.size() != static_cast<size_t>(layout.partitions())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ReadNewAlerts: ", after.size(), " positions for ", layout.partitions(), " partitions"));
  }
  absl::StatusOr<NewAlerts> read = redis.cluster()
                                       ? ReadNewAlertsCluster(redis, layout, after, options)
                                       : ReadNewAlertsSingle(redis, layout, after, options);
  if (!read.ok()) return read;
  std::stable_sort(read->entries.begin(), read->entries.end(),
                   [](const auto& a, const auto& b) { return a->id < b->id; });
  return read;
}

}  // namespace alliance
