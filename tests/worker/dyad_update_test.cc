// Unit tests of the pure dyad update: deduplication by rating id, versioning, and alerts that
// are emitted once only.
#include "worker/dyad_update.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "analytics/registry.h"
#include "worker/record_convert.h"

namespace alliance::worker {
namespace {

DecodedFeedback Srs(int session, double per_item, const std::string& id) {
  DecodedFeedback f;
  f.stream_id = absl::StrCat("1-", session);
  f.dyad = {"t", "th", "cl"};
  f.rating.rating_id = id;
  f.rating.session_number = session;
  f.rating.session_time_ms = 1704067200000 + int64_t{session} * 604800000;
  f.rating.rater = analytics::Rater::kClient;
  f.rating.instrument_id = "srs";
  f.rating.answers = {per_item, per_item, per_item, per_item};
  f.session_id = absl::StrCat("s", session);
  f.idempotency_id = absl::StrCat("idem-", id);
  return f;
}

class DyadUpdateTest : public ::testing::Test {
 protected:
  DyadUpdate Apply(const internal::v1::DyadRecord& old, std::vector<DecodedFeedback> in) {
    google::protobuf::Timestamp now;
    now.set_seconds(1800000000);
    return UpdateDyad(analytics::InstrumentRegistry::BuiltIn(), analytics::RuleConfig{},
                      {"t", "th", "cl"}, old, in, now);
  }
};

TEST_F(DyadUpdateTest, NewDyadGetsVersionOneAndPicture) {
  DyadUpdate u = Apply({}, {Srs(1, 9.5, "a"), Srs(2, 9.4, "b")});
  ASSERT_TRUE(u.changed);
  EXPECT_EQ(u.record.version(), 1);
  EXPECT_EQ(u.ratings_added, 2);
  EXPECT_EQ(u.record.ratings_size(), 2);
  EXPECT_EQ(u.record.picture().ratings_applied(), 2);
  EXPECT_EQ(u.record.picture().tenant_id(), "t");
  EXPECT_EQ(u.record.picture().updated_at().seconds(), 1800000000);
  EXPECT_TRUE(u.new_alerts.empty());
}

TEST_F(DyadUpdateTest, DuplicatesChangeNothing) {
  DyadUpdate first = Apply({}, {Srs(1, 9.5, "a"), Srs(2, 9.4, "b"), Srs(2, 9.4, "b")});
  EXPECT_EQ(first.ratings_added, 2);
  EXPECT_EQ(first.duplicates, 1);
  DyadUpdate again = Apply(first.record, {Srs(1, 9.5, "a"), Srs(2, 9.4, "b")});
  EXPECT_FALSE(again.changed);
  EXPECT_EQ(again.duplicates, 2);
  EXPECT_TRUE(again.new_alerts.empty());
}

TEST_F(DyadUpdateTest, AlertIsEmittedOnceAndKeptInTheRecord) {
  DyadUpdate u1 = Apply({}, {Srs(1, 9.5, "a"), Srs(2, 9.5, "b"), Srs(3, 9.4, "c")});
  DyadUpdate u2 = Apply(u1.record, {Srs(4, 6.0, "d")});  // total 24 < 36: below cutoff
  ASSERT_TRUE(u2.changed);
  EXPECT_EQ(u2.record.version(), 2);
  ASSERT_FALSE(u2.new_alerts.empty());
  EXPECT_EQ(u2.new_alerts[0].kind(), alliance::v1::ALERT_KIND_RUPTURE);
  EXPECT_EQ(u2.new_alerts[0].session_number(), 4);
  EXPECT_EQ(u2.record.alerts_size(), static_cast<int>(u2.new_alerts.size()));
  // A later rating recomputes everything but emits only what is new.
  DyadUpdate u3 = Apply(u2.record, {Srs(5, 6.1, "e")});
  for (const auto& a : u3.new_alerts) {
    for (const auto& old : u2.record.alerts()) EXPECT_NE(a.alert_id(), old.alert_id());
  }
  EXPECT_EQ(u3.record.alerts_size(),
            u2.record.alerts_size() + static_cast<int>(u3.new_alerts.size()));
}

TEST_F(DyadUpdateTest, RatingsAreKeptInSessionOrder) {
  DyadUpdate u = Apply({}, {Srs(3, 9, "c"), Srs(1, 9, "a"), Srs(2, 9, "b")});
  ASSERT_EQ(u.record.ratings_size(), 3);
  EXPECT_EQ(u.record.ratings(0).session_number(), 1);
  EXPECT_EQ(u.record.ratings(2).session_number(), 3);
  EXPECT_EQ(u.record.ratings(0).session_id(), "s1");
  // Kept so that FHIR Observations name the QuestionnaireResponse they derive from.
  EXPECT_EQ(u.record.ratings(0).idempotency_id(), "idem-a");
}

TEST(AlertNamesTest, MatchTheDocumentedStreamValues) {
  EXPECT_EQ(AlertKindName(alliance::v1::ALERT_KIND_REPAIRED), "repaired");
  EXPECT_EQ(SeverityName(alliance::v1::SEVERITY_CRITICAL), "critical");
}

}  // namespace
}  // namespace alliance::worker
