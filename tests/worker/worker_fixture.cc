// Feeding, process control, draining and the oracle for the worker tests (worker_fixture.h).
#include "tests/worker/worker_fixture.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "analytics/dyad_analysis.h"
#include "analytics/registry.h"
#include "analytics/rules.h"
#include "store/cluster_slot.h"
#include "store/dyad_record_io.h"
#include "worker/record_convert.h"

namespace alliance::testing {
namespace {

constexpr int64_t kFirstSessionSeconds = 1704067200;  // 2024-01-01T00:00:00Z

int64_t SessionSeconds(int session_number) {
  return kFirstSessionSeconds + int64_t{session_number} * 7 * 24 * 3600;
}

std::string DyadKeyString(const Submission& s) {
  return absl::StrCat(s.tenant, ":", s.therapist, ":", s.client);
}

}  // namespace

KeyedCommand OnConnection(RedisConnection& redis) {
  return [&redis](std::string_view, const std::vector<std::string_view>& args) {
    return redis.Command(args);
  };
}

KeyedCommand OnCluster(ClusterClient& cluster) {
  return [&cluster](std::string_view key, const std::vector<std::string_view>& args) {
    return cluster.Command(KeySlot(key), args);
  };
}

std::string EncodeEntry(const Submission& s) {
  internal::v1::FeedbackEntry entry;
  alliance::v1::Feedback* f = entry.mutable_feedback();
  f->set_tenant_id(s.tenant);
  f->set_idempotency_id(absl::StrCat("idem-", s.accepted_id));
  f->set_therapist_id(s.therapist);
  f->set_client_id(s.client);
  f->set_session_id(absl::StrCat("session-", s.session_number));
  f->set_session_number(s.session_number);
  f->mutable_session_time()->set_seconds(SessionSeconds(s.session_number));
  f->set_rater(static_cast<alliance::v1::Rater>(s.rater));
  f->set_instrument_id(s.instrument_id);
  for (size_t i = 0; i < s.answers.size(); ++i) {
    alliance::v1::ItemAnswer* a = f->add_answers();
    a->set_item(static_cast<int>(i) + 1);
    a->set_value(s.answers[i]);
  }
  entry.set_accepted_id(s.accepted_id);
  entry.mutable_accepted_at()->set_seconds(SessionSeconds(s.session_number) + 3600);
  return entry.SerializeAsString();
}

absl::Status Feed(RedisConnection& redis, const KeyLayout& layout,
                  const std::vector<Submission>& submissions) {
  std::vector<std::string> streams, entries;
  for (const Submission& s : submissions) {
    streams.push_back(layout.FeedbackStream(layout.PartitionOf(s.tenant, s.therapist, s.client)));
    entries.push_back(EncodeEntry(s));
  }
  for (size_t i = 0; i < submissions.size(); ++i) {
    redis.Append({"XADD", streams[i], "*", "v", "1", "tenant", submissions[i].tenant, "accepted_id",
                  submissions[i].accepted_id, "entry", entries[i]});
  }
  for (size_t i = 0; i < submissions.size(); ++i) {
    absl::StatusOr<RedisReplyPtr> reply = redis.GetReply();
    if (!reply.ok()) return reply.status();
    if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status FeedRaw(RedisConnection& redis, const KeyLayout& layout, int partition,
                     const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string stream = layout.FeedbackStream(partition);
  std::vector<std::string_view> args = {"XADD", stream, "*"};
  for (const auto& [k, v] : fields) {
    args.push_back(k);
    args.push_back(v);
  }
  absl::StatusOr<RedisReplyPtr> reply = redis.Command(args);
  if (!reply.ok()) return reply.status();
  return ReplyStatus(**reply);
}

std::vector<double> AnswersAt(const std::string& instrument_id, double level_pomp, double noise,
                              std::mt19937& rng) {
  const analytics::Instrument* instrument =
      analytics::InstrumentRegistry::BuiltIn().Find(instrument_id);
  std::vector<double> answers;
  if (instrument == nullptr) return answers;
  std::normal_distribution<double> jitter(0, noise);
  double lo = instrument->item_min, hi = instrument->item_max;
  for (int item = 1; item <= instrument->item_count; ++item) {
    double pomp = std::clamp(level_pomp + jitter(rng), 0.0, 100.0);
    double v = lo + (hi - lo) * pomp / 100.0;
    v = lo + std::round((v - lo) / instrument->step) * instrument->step;
    v = std::clamp(std::round(v * 1e6) / 1e6, lo, hi);
    bool reverse = std::find(instrument->reverse_items.begin(), instrument->reverse_items.end(),
                             item) != instrument->reverse_items.end();
    answers.push_back(reverse ? lo + hi - v : v);
  }
  return answers;
}

std::vector<Submission> ClientSeries(const std::string& tenant, const std::string& therapist,
                                     const std::string& client, const std::string& instrument_id,
                                     int sessions, std::mt19937& rng) {
  int shape = std::uniform_int_distribution<int>(0, 3)(rng);
  int onset = std::uniform_int_distribution<int>(4, std::max(4, sessions - 3))(rng);
  double base = std::uniform_real_distribution<double>(85, 95)(rng);
  std::vector<Submission> out;
  for (int s = 1; s <= sessions; ++s) {
    double level = base;
    if (shape == 1 && s == onset) level = base - 35;                   // V-shaped rupture...
    if (shape == 2 && s >= onset) level = base - 9 * (s - onset + 1);  // ...or a decline
    if (shape == 3) level = 97;                                        // ceiling
    level = std::max(level, 20.0);
    Submission sub;
    sub.tenant = tenant;
    sub.therapist = therapist;
    sub.client = client;
    sub.instrument_id = instrument_id;
    sub.session_number = s;
    sub.rater = 1;
    sub.accepted_id = absl::StrCat(tenant, ".", therapist, ".", client, ".", s);
    sub.answers = AnswersAt(instrument_id, level, shape == 3 ? 2 : 4, rng);
    out.push_back(std::move(sub));
  }
  return out;
}

std::vector<Submission> Workload(uint32_t seed, const WorkloadShape& shape) {
  std::mt19937 rng(seed);
  std::vector<std::vector<Submission>> series;
  for (int d = 0; d < shape.dyads; ++d) {
    std::string instrument = d % 3 == 0 ? "wai-sr" : "srs";
    series.push_back(ClientSeries(absl::StrCat("tenant-", d % shape.tenants),
                                  absl::StrCat("th-", d % shape.therapists), absl::StrCat("cl-", d),
                                  instrument, shape.sessions, rng));
  }
  std::vector<Submission> out;
  for (int s = 0; s < shape.sessions; ++s) {
    std::vector<Submission> week;
    for (auto& one : series) week.push_back(one[s]);
    std::shuffle(week.begin(), week.end(), rng);
    out.insert(out.end(), week.begin(), week.end());
  }
  for (int i = 0; i < shape.duplicates; ++i) out.push_back(out[rng() % out.size()]);
  return out;
}

std::vector<std::string> WorkerArgs(int redis_port, int partitions, const std::string& id) {
  return {"--redis_port=" + std::to_string(redis_port),
          "--partitions=" + std::to_string(partitions), "--worker_id=" + id, "--log_level=info"};
}

absl::Status StartWorker(ChildProcess& process, const std::vector<std::string>& args,
                         const std::string& log_name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = tmp ? tmp : "/tmp";
  return process.Start(BinaryPath("alliance-worker"), args,
                       absl::StrCat(dir, "/", log_name, "-", getpid(), ".log"));
}

absl::Status DeliverAllToDeadConsumer(RedisConnection& redis, const KeyLayout& layout,
                                      const std::string& consumer) {
  for (int p = 0; p < layout.partitions(); ++p) {
    const std::string stream = layout.FeedbackStream(p);
    absl::StatusOr<RedisReplyPtr> created =
        redis.Command({"XGROUP", "CREATE", stream, kWorkerGroup, "0", "MKSTREAM"});
    if (!created.ok()) return created.status();
    if (absl::Status s = ReplyStatus(**created); !s.ok()) return s;
    absl::StatusOr<RedisReplyPtr> read = redis.Command(
        {"XREADGROUP", "GROUP", kWorkerGroup, consumer, "COUNT", "100000", "STREAMS", stream, ">"});
    if (!read.ok()) return read.status();
    if (absl::Status s = ReplyStatus(**read); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::set<std::string>> ConsumerNames(RedisConnection& redis,
                                                    const std::string& stream) {
  absl::StatusOr<RedisReplyPtr> reply = redis.Command({"XINFO", "CONSUMERS", stream, kWorkerGroup});
  if (!reply.ok()) return reply.status();
  if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
  std::set<std::string> names;
  for (size_t c = 0; c < (*reply)->elements; ++c) {
    const redisReply* fields = (*reply)->element[c];  // RESP2: a flat field/value list
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
      if (ReplyString(*fields->element[i]) == "name") {
        names.insert(std::string(ReplyString(*fields->element[i + 1])));
      }
    }
  }
  return names;
}

absl::StatusOr<std::unique_ptr<RedisConnection>> ConnectWithRetry(const RedisEndpoint& endpoint,
                                                                  absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::unique_ptr<RedisConnection>> conn = RedisConnection::Connect(endpoint);
    if (conn.ok() || absl::Now() >= deadline) return conn;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

namespace {

// True when the group has delivered the stream's last entry and nothing is pending.
absl::StatusOr<bool> Drained(const KeyedCommand& redis, const std::string& stream) {
  absl::StatusOr<RedisReplyPtr> info = redis(stream, {"XINFO", "STREAM", stream});
  if (!info.ok()) return info.status();
  if ((*info)->type != REDIS_REPLY_ARRAY) return false;  // stream not created yet
  std::string last_generated;
  for (size_t i = 0; i + 1 < (*info)->elements; i += 2) {
    if (ReplyString(*(*info)->element[i]) == "last-generated-id") {
      last_generated = std::string(ReplyString(*(*info)->element[i + 1]));
    }
  }
  absl::StatusOr<RedisReplyPtr> groups = redis(stream, {"XINFO", "GROUPS", stream});
  if (groups.ok() && (*groups)->type != REDIS_REPLY_ARRAY) return false;
  if (!groups.ok()) return groups.status();
  for (size_t g = 0; g < (*groups)->elements; ++g) {
    const redisReply* group = (*groups)->element[g];
    std::string name, last_delivered;
    int64_t pending = -1;
    for (size_t i = 0; i + 1 < group->elements; i += 2) {
      std::string_view field = ReplyString(*group->element[i]);
      if (field == "name") name = std::string(ReplyString(*group->element[i + 1]));
      if (field == "pending") pending = group->element[i + 1]->integer;
      if (field == "last-delivered-id") {
        last_delivered = std::string(ReplyString(*group->element[i + 1]));
      }
    }
    if (name == kWorkerGroup) return pending == 0 && last_delivered == last_generated;
  }
  return false;
}

}  // namespace

absl::Status WaitForDrained(const RedisEndpoint& endpoint, const KeyLayout& layout,
                            absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  std::unique_ptr<RedisConnection> redis;
  while (absl::Now() < deadline) {
    if (redis == nullptr || redis->broken()) {
      absl::StatusOr<std::unique_ptr<RedisConnection>> conn = RedisConnection::Connect(endpoint);
      if (!conn.ok()) {
        absl::SleepFor(absl::Milliseconds(100));
        continue;
      }
      redis = *std::move(conn);
    }
    bool all = true;
    for (int p = 0; p < layout.partitions() && all; ++p) {
      absl::StatusOr<bool> drained = Drained(OnConnection(*redis), layout.FeedbackStream(p));
      all = drained.ok() && *drained;
    }
    if (all) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError("feedback streams did not drain");
}

absl::Status WaitForDrained(const KeyedCommand& redis, const KeyLayout& layout,
                            absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    bool all = true;
    for (int p = 0; p < layout.partitions() && all; ++p) {
      absl::StatusOr<bool> drained = Drained(redis, layout.FeedbackStream(p));
      all = drained.ok() && *drained;
    }
    if (all) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError("feedback streams did not drain");
}

absl::StatusOr<internal::v1::DyadRecord> ReadRecord(RedisConnection& redis, const KeyLayout& layout,
                                                    const std::string& tenant,
                                                    const std::string& therapist,
                                                    const std::string& client) {
  return ReadRecord(OnConnection(redis), layout, tenant, therapist, client);
}

absl::StatusOr<internal::v1::DyadRecord> ReadRecord(const KeyedCommand& redis,
                                                    const KeyLayout& layout,
                                                    const std::string& tenant,
                                                    const std::string& therapist,
                                                    const std::string& client) {
  int p = layout.PartitionOf(tenant, therapist, client);
  const std::string head = layout.DyadState(p, tenant, therapist, client);
  const std::string log = layout.DyadLog(p, tenant, therapist, client);
  absl::StatusOr<RedisReplyPtr> reply = redis(head, {"MGET", head, log});
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::optional<StoredDyad>> stored = ParseStoredDyad(**reply);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    return absl::NotFoundError(absl::StrCat("no record for ", tenant, ":", therapist, ":", client));
  }
  return std::move((*stored)->record);
}

absl::StatusOr<std::vector<std::map<std::string, std::string>>> ReadStream(RedisConnection& redis,
                                                                           const std::string& key) {
  return ReadStream(OnConnection(redis), key);
}

absl::StatusOr<std::vector<std::map<std::string, std::string>>> ReadStream(
    const KeyedCommand& redis, const std::string& key) {
  absl::StatusOr<RedisReplyPtr> reply = redis(key, {"XRANGE", key, "-", "+"});
  if (!reply.ok()) return reply.status();
  if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
  std::vector<std::map<std::string, std::string>> out;
  for (size_t i = 0; i < (*reply)->elements; ++i) {
    const redisReply* fields = (*reply)->element[i]->element[1];
    std::map<std::string, std::string> entry;
    entry["_id"] = std::string(ReplyString(*(*reply)->element[i]->element[0]));
    for (size_t j = 0; j + 1 < fields->elements; j += 2) {
      entry[std::string(ReplyString(*fields->element[j]))] =
          std::string(ReplyString(*fields->element[j + 1]));
    }
    out.push_back(std::move(entry));
  }
  return out;
}

void ExpectMatchesOracle(RedisConnection& redis, const KeyLayout& layout,
                         const std::vector<Submission>& submitted) {
  ExpectMatchesOracle(OnConnection(redis), layout, submitted);
}

void ExpectMatchesOracle(const KeyedCommand& redis, const KeyLayout& layout,
                         const std::vector<Submission>& submitted) {
  // Unique submissions per dyad.
  std::map<std::string, std::map<std::string, const Submission*>> by_dyad;
  for (const Submission& s : submitted) by_dyad[DyadKeyString(s)][s.accepted_id] = &s;

  std::map<std::string, int> alert_seen;  // alert id -> times in the alert streams
  std::set<std::string> expected_alerts;
  int failures = 0;
  const int kMaxReported = 5;
  for (const auto& [name, ratings] : by_dyad) {
    const Submission& any = *ratings.begin()->second;
    analytics::DyadKey key{any.tenant, any.therapist, any.client};
    absl::StatusOr<internal::v1::DyadRecord> record =
        ReadRecord(redis, layout, any.tenant, any.therapist, any.client);
    if (!record.ok()) {
      if (++failures <= kMaxReported) ADD_FAILURE() << name << ": " << record.status();
      continue;
    }
    std::set<std::string> want_ids, have_ids;
    std::vector<analytics::Rating> history;
    for (const auto& [id, s] : ratings) {
      want_ids.insert(id);
      analytics::Rating r;
      r.rating_id = id;
      r.session_number = s->session_number;
      r.session_time_ms = SessionSeconds(s->session_number) * 1000;
      r.rater = static_cast<analytics::Rater>(s->rater);
      r.instrument_id = s->instrument_id;
      r.answers = s->answers;
      history.push_back(std::move(r));
    }
    std::sort(history.begin(), history.end(), [](const auto& a, const auto& b) {
      return std::tie(a.session_number, a.rater, a.instrument_id, a.rating_id) <
             std::tie(b.session_number, b.rater, b.instrument_id, b.rating_id);
    });
    for (const auto& r : record->ratings()) {
      if (!have_ids.insert(r.rating_id()).second && ++failures <= kMaxReported) {
        ADD_FAILURE() << name << ": rating stored twice";
      }
    }
    if (want_ids != have_ids && ++failures <= kMaxReported) {
      ADD_FAILURE() << name << ": stored " << have_ids.size() << " ratings, submitted "
                    << want_ids.size();
    }
    analytics::DyadAnalysis analysis = analytics::AnalyzeDyad(
        analytics::InstrumentRegistry::BuiltIn(), analytics::RuleConfig{}, key, history);
    alliance::v1::Dyad want = worker::DyadFromAnalysis(key, analysis);
    alliance::v1::Dyad have = record->picture();
    have.clear_updated_at();
    google::protobuf::util::MessageDifferencer diff;
    diff.set_float_comparison(google::protobuf::util::MessageDifferencer::APPROXIMATE);
    std::string report;
    diff.ReportDifferencesToString(&report);
    if (!diff.Compare(want, have) && ++failures <= kMaxReported) {
      ADD_FAILURE() << name << ": picture differs from the recomputation:\n" << report;
    }
    std::set<std::string> want_alerts, have_alerts;
    for (const analytics::AlertEvent& e : analysis.alerts) {
      want_alerts.insert(e.alert_id);
      expected_alerts.insert(e.alert_id);
    }
    // Disengagement events depend on the worker's clock and timer, not on the ratings alone:
    // tests/worker/engagement_test.cc checks them.
    int engagement_alerts = 0;
    for (const auto& a : record->alerts()) {
      if (a.kind() == alliance::v1::ALERT_KIND_DISENGAGEMENT ||
          a.kind() == alliance::v1::ALERT_KIND_REENGAGED) {
        ++engagement_alerts;
        continue;
      }
      have_alerts.insert(a.alert_id());
    }
    if ((want_alerts != have_alerts ||
         have_alerts.size() + engagement_alerts != static_cast<size_t>(record->alerts_size())) &&
        ++failures <= kMaxReported) {
      ADD_FAILURE() << name << ": record has " << record->alerts_size() << " alerts, expected "
                    << want_alerts.size();
    }
  }
  for (int p = 0; p < layout.partitions(); ++p) {
    auto stream = ReadStream(redis, layout.AlertStream(p));
    ASSERT_TRUE(stream.ok()) << stream.status();
    for (auto& entry : *stream) {
      EXPECT_EQ(entry["v"], "1");
      if (entry["kind"] == "disengagement" || entry["kind"] == "reengaged") continue;
      alert_seen[entry["alert_id"]]++;
    }
  }
  int missing = 0, duplicated = 0, unexpected = 0;
  for (const std::string& id : expected_alerts) {
    auto it = alert_seen.find(id);
    if (it == alert_seen.end()) {
      ++missing;
    } else if (it->second > 1) {
      ++duplicated;
    }
  }
  for (const auto& [id, n] : alert_seen) {
    if (!expected_alerts.count(id)) ++unexpected;
  }
  EXPECT_EQ(missing, 0) << "alerts missing from the alert streams";
  EXPECT_EQ(duplicated, 0) << "alerts emitted more than once";
  EXPECT_EQ(unexpected, 0) << "alerts the recomputation does not raise";
  EXPECT_EQ(failures, 0) << "dyads differing from the oracle";
  // A test whose oracle raises no alert would not test alerting.
  EXPECT_GT(expected_alerts.size(), 0u);
  std::printf("oracle: %zu dyads, %zu alerts checked\n", by_dyad.size(), expected_alerts.size());
}

}  // namespace alliance::testing
