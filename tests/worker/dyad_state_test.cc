// Unit tests of the in-memory dyad state: batch after batch, the head and log it writes must
// read back as the very record, alerts and counts that the reference update (UpdateDyad:
// parse, merge, AnalyzeDyad, serialize) produces, including duplicates, late and replacing
// ratings, two raters of one session, a state rebuilt from a stored record midway (head and
// log, or a record of one key), and fields it does not know; in-order ratings only append.
#include "worker/dyad_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "analytics/registry.h"
#include "worker/dyad_update.h"

namespace alliance::worker {
namespace {

const analytics::DyadKey kDyad{"t", "th", "cl"};
constexpr int64_t kWeekMs = 604800000;
constexpr int64_t kStartMs = 1704067200000;

DecodedFeedback Rating(const std::string& id, int session, analytics::Rater rater,
                       const std::string& instrument, std::vector<double> answers,
                       int64_t minutes_late = 0) {
  DecodedFeedback f;
  f.stream_id = absl::StrCat("1-", id);
  f.dyad = kDyad;
  f.rating.rating_id = id;
  f.rating.session_number = session;
  f.rating.session_time_ms = kStartMs + session * kWeekMs + minutes_late * 60000;
  f.rating.rater = rater;
  f.rating.instrument_id = instrument;
  f.rating.answers = std::move(answers);
  f.session_id = absl::StrCat("s", session);
  return f;
}

// Client SRS at `level` (0..10) or therapist WAI-SR-T at a level mapped to 1..5.
DecodedFeedback Client(const std::string& id, int session, double level, int64_t late = 0) {
  double a = std::round(level * 10) / 10;
  return Rating(id, session, analytics::Rater::kClient, "srs", {a, a, a, a}, late);
}
DecodedFeedback Therapist(const std::string& id, int session, double level) {
  double a = std::clamp(std::round(level / 2), 1.0, 5.0);
  return Rating(id, session, analytics::Rater::kTherapist, "wai-sr-t", std::vector<double>(12, a));
}

// Runs both implementations over the same batches and compares every write.
class Twin {
 public:
  Twin() : state_(analytics::InstrumentRegistry::BuiltIn(), rules_, kDyad, {}, false) {}

  void Apply(const std::vector<DecodedFeedback>& batch, int step) {
    google::protobuf::Timestamp now;
    now.set_seconds(1800000000 + step);
    int64_t version = state_.version();
    ASSERT_EQ(version, record_.version());
    DyadState::Update got = state_.Apply(batch, now);
    DyadUpdate want =
        UpdateDyad(analytics::InstrumentRegistry::BuiltIn(), rules_, kDyad, record_, batch, now);
    ASSERT_EQ(got.changed, want.changed) << "step " << step;
    EXPECT_EQ(got.ratings_added, want.ratings_added) << "step " << step;
    EXPECT_EQ(got.duplicates, want.duplicates) << "step " << step;
    ASSERT_EQ(got.new_alerts.size(), want.new_alerts.size()) << "step " << step;
    for (size_t i = 0; i < got.new_alerts.size(); ++i) {
      EXPECT_EQ(got.new_alerts[i].SerializeAsString(), want.new_alerts[i].SerializeAsString());
    }
    alerts_ += static_cast<int>(got.new_alerts.size());
    if (!want.changed) {
      EXPECT_EQ(state_.version(), version);
      return;
    }
    EXPECT_EQ(state_.version(), version + 1);
    // Stored as the apply script stores it: the head replaced, the log appended or replaced.
    head_ = got.head;
    if (got.replace_log) {
      log_ = got.log;
      ++replacements_;
    } else {
      log_ += got.log;
    }
    internal::v1::DyadRecord head_only, stored;
    ASSERT_TRUE(head_only.ParseFromString(head_));
    EXPECT_EQ(head_only.ratings_size() + head_only.alerts_size(), 0) << "step " << step;
    EXPECT_EQ(static_cast<unsigned char>(head_[0]), 0x08);  // version first
    ASSERT_TRUE(stored.ParseFromString(head_ + log_)) << "step " << step;
    ASSERT_EQ(stored.SerializeAsString(), want.record.SerializeAsString()) << "step " << step;
    record_ = want.record;
  }

  // Replaces the state by one loaded from storage, as after a cache miss: from head and log,
  // or (`one_key`) from a record written whole in one key, whose log the next write replaces.
  void Reload(bool one_key) {
    std::string bytes = one_key ? record_.SerializeAsString() : head_ + log_;
    internal::v1::DyadRecord parsed;
    ASSERT_TRUE(parsed.ParseFromString(bytes));
    state_ = DyadState(analytics::InstrumentRegistry::BuiltIn(), rules_, kDyad, parsed, !one_key);
  }

  // Writes that replaced the log instead of appending to it.
  int replacements() const { return replacements_; }

  const internal::v1::DyadRecord& record() const { return record_; }
  int alerts() const { return alerts_; }

 private:
  analytics::RuleConfig rules_;
  internal::v1::DyadRecord record_;
  DyadState state_;
  int alerts_ = 0;
  std::string head_, log_;
  int replacements_ = 0;
};

TEST(DyadStateTest, SessionBySessionMatchesTheReferenceWithRuptureAndRepair) {
  Twin twin;
  // Good, then a drop (rupture), then back up (repair), then down again and staying there.
  std::vector<double> client = {9.5, 9.4, 9.6, 9.5, 5.0, 5.2, 9.3, 9.4, 9.5, 4.0,
                                4.1, 4.0, 4.2, 4.1, 4.0, 4.3, 9.0, 9.1, 9.2, 9.3};
  for (int s = 1; s <= static_cast<int>(client.size()); ++s) {
    twin.Apply({Client(absl::StrCat("c", s), s, client[s - 1])}, s);
  }
  EXPECT_GE(twin.alerts(), 2);
  EXPECT_EQ(twin.record().ratings_size(), 20);
  EXPECT_EQ(twin.replacements(), 1);  // the first write; every later one appends
}

TEST(DyadStateTest, MixedBatchesMatchTheReference) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> level(3.0, 10.0);
  std::uniform_int_distribution<int> pick(0, 99);
  Twin twin;
  std::vector<DecodedFeedback> sent;
  int session = 0;
  for (int step = 1; step <= 120; ++step) {
    std::vector<DecodedFeedback> batch;
    int n = 1 + pick(rng) % 3;
    for (int i = 0; i < n; ++i) {
      int kind = pick(rng);
      std::string id = absl::StrCat("r", step, "-", i);
      if (kind < 45 || session == 0) {
        ++session;
        batch.push_back(Client(id, session, level(rng)));
      } else if (kind < 70) {
        batch.push_back(Therapist(id, session, level(rng)));  // second rater, same session
      } else if (kind < 80) {
        batch.push_back(sent[pick(rng) % sent.size()]);  // redelivery
      } else if (kind < 90) {
        int earlier = 1 + pick(rng) % session;  // late or replacing rating
        batch.push_back(Client(id, earlier, level(rng), 30));
      } else {
        batch.push_back(Therapist(id, 1 + pick(rng) % session, level(rng)));
      }
    }
    sent.insert(sent.end(), batch.begin(), batch.end());
    twin.Apply(batch, step);
    if (::testing::Test::HasFatalFailure()) return;
    if (step % 40 == 0) twin.Reload(/*one_key=*/step == 80);
  }
  EXPECT_GT(twin.record().ratings_size(), 100);
  EXPECT_GT(twin.alerts(), 0);
}

TEST(DyadStateTest, BacklogBatchesMatchTheReference) {
  // Many ratings of one dyad in a batch take the one-pass reload of the analyzer.
  Twin twin;
  int session = 0, step = 0;
  for (int size : {12, 1, 10, 2, 9}) {
    std::vector<DecodedFeedback> batch;
    for (int i = 0; i < size; ++i) {
      ++session;
      double level = session % 7 == 0 ? 4.5 : 9.3 - 0.1 * (session % 3);
      batch.push_back(Client(absl::StrCat("b", session), session, level));
      if (session % 4 == 0) batch.push_back(Therapist(absl::StrCat("t", session), session, 8));
    }
    twin.Apply(batch, ++step);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(twin.alerts(), 0);
}

TEST(DyadStateTest, UnknownFieldsOfTheStoredRecordAreKept) {
  internal::v1::DyadRecord record;
  record.set_version(3);
  record.set_tenant_id("t");
  record.GetReflection()->MutableUnknownFields(&record)->AddVarint(
      99, 42);                        // a field of a newer writer
  const analytics::RuleConfig rules;  // outlives the state, which keeps a pointer to it
  DyadState state(analytics::InstrumentRegistry::BuiltIn(), rules, kDyad, record, false);
  google::protobuf::Timestamp now;
  std::vector<DecodedFeedback> batch = {Client("a", 1, 9.0)};
  DyadState::Update u = state.Apply(batch, now);
  ASSERT_TRUE(u.changed);
  internal::v1::DyadRecord written;
  ASSERT_TRUE(written.ParseFromString(u.head + u.log));
  EXPECT_EQ(written.version(), 4);
  EXPECT_EQ(written.ratings_size(), 1);
  const google::protobuf::UnknownFieldSet& unknown =
      written.GetReflection()->GetUnknownFields(written);
  ASSERT_EQ(unknown.field_count(), 1);
  EXPECT_EQ(unknown.field(0).number(), 99);
  EXPECT_EQ(static_cast<unsigned char>(u.head[0]), 0x08);  // version first
}

}  // namespace
}  // namespace alliance::worker
