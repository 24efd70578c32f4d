// Unit tests of the content hash: retries with identical content (in any answer order) match,
// and a change in any field does not.
#include "services/intake/content_hash.h"

#include <functional>
#include <set>

#include "analytics/hash.h"
#include "gtest/gtest.h"

namespace alliance::intake {
namespace {

alliance::v1::Feedback Sample() {
  alliance::v1::Feedback f;
  f.set_tenant_id("t");
  f.set_idempotency_id("i");
  f.set_therapist_id("th");
  f.set_client_id("c");
  f.set_session_id("s");
  f.set_session_number(2);
  f.mutable_session_time()->set_seconds(1'700'000'000);
  f.set_rater(alliance::v1::RATER_CLIENT);
  f.set_instrument_id("srs");
  for (int item = 1; item <= 4; ++item) {
    auto* a = f.add_answers();
    a->set_item(item);
    a->set_value(item * 2.0);
  }
  return f;
}

TEST(ContentHashTest, StableAndIndependentOfAnswerOrder) {
  alliance::v1::Feedback a = Sample();
  alliance::v1::Feedback b = Sample();
  std::swap(*b.mutable_answers(0), *b.mutable_answers(2));
  EXPECT_EQ(ContentHash(a), ContentHash(b));
  EXPECT_EQ(ContentHash(a).size(), 32u);
  EXPECT_EQ(ContentHash(a), ContentHash(Sample()));
}

// Pinned values: stored idempotency records depend on the canonical bytes and their hash
// never changing (e.g. when the encoding code is made faster).
TEST(ContentHashTest, PinnedValue) {
  alliance::v1::Feedback f = Sample();
  f.mutable_session_time()->set_nanos(123);
  f.mutable_answers(1)->set_value(-0.0);
  EXPECT_EQ(ContentHash(f), "a7c42d7c9be09c41d7da3a558f51fc58");
  EXPECT_EQ(analytics::Hash128Hex({CanonicalFeedbackBytes(f)}), ContentHash(f));
  EXPECT_EQ(CanonicalFeedbackBytes(f).size(), 173u);
}

TEST(ContentHashTest, NegativeZeroIsZero) {
  alliance::v1::Feedback a = Sample();
  alliance::v1::Feedback b = Sample();
  a.mutable_answers(0)->set_value(0.0);
  b.mutable_answers(0)->set_value(-0.0);
  EXPECT_EQ(ContentHash(a), ContentHash(b));
}

TEST(ContentHashTest, EveryFieldChangesTheHash) {
  std::vector<std::function<void(alliance::v1::Feedback&)>> changes = {
      [](auto& f) { f.set_tenant_id("t2"); },
      [](auto& f) { f.set_idempotency_id("i2"); },
      [](auto& f) { f.set_therapist_id("th2"); },
      [](auto& f) { f.set_client_id("c2"); },
      [](auto& f) { f.set_session_id("s2"); },
      [](auto& f) { f.set_session_number(3); },
      [](auto& f) { f.mutable_session_time()->set_seconds(1'700'000'001); },
      [](auto& f) { f.mutable_session_time()->set_nanos(1); },
      [](auto& f) { f.clear_session_time(); },
      [](auto& f) { f.set_rater(alliance::v1::RATER_THERAPIST); },
      [](auto& f) { f.set_instrument_id("wai-sr"); },
      [](auto& f) { f.mutable_answers(1)->set_value(4.5); },
      [](auto& f) { f.mutable_answers(1)->set_item(9); },
      [](auto& f) { f.mutable_answers()->RemoveLast(); },
      // Moving characters between adjacent fields must not collide.
      [](auto& f) {
        f.set_therapist_id("t");
        f.set_client_id("hc");
      },
  };
  std::set<std::string> hashes = {ContentHash(Sample())};
  for (size_t i = 0; i < changes.size(); ++i) {
    alliance::v1::Feedback f = Sample();
    changes[i](f);
    EXPECT_TRUE(hashes.insert(ContentHash(f)).second) << "change " << i << " collided";
  }
}

}  // namespace
}  // namespace alliance::intake
