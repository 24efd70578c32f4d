// Unit tests of the hand-written FeedbackEntry encoding: its bytes must equal protobuf's own
// serialization of the same FeedbackEntry, for ordinary, edge and unusual inputs, and parse back.
#include "store/feedback_entry.h"

#include "alliance/internal/v1/records.pb.h"
#include "gtest/gtest.h"

namespace alliance {
namespace {

alliance::v1::Feedback Sample() {
  alliance::v1::Feedback f;
  f.set_tenant_id("tenant-1");
  f.set_idempotency_id("idem.42");
  f.set_therapist_id("th");
  f.set_client_id("c");
  f.set_session_id("s");
  f.set_session_number(3);
  f.mutable_session_time()->set_seconds(1'700'000'000);
  f.mutable_session_time()->set_nanos(5);
  f.set_rater(alliance::v1::RATER_CLIENT);
  f.set_instrument_id("srs");
  for (int item = 1; item <= 4; ++item) {
    auto* a = f.add_answers();
    a->set_item(item);
    a->set_value(item * 2.5);
  }
  return f;
}

std::string Reference(const alliance::v1::Feedback& feedback, const std::string& accepted_id,
                      absl::Time at) {
  alliance::internal::v1::FeedbackEntry entry;
  *entry.mutable_feedback() = feedback;
  entry.set_accepted_id(accepted_id);
  int64_t ns = absl::ToUnixNanos(at);
  entry.mutable_accepted_at()->set_seconds(ns / 1'000'000'000);
  entry.mutable_accepted_at()->set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
  return entry.SerializeAsString();
}

void ExpectSameBytes(const alliance::v1::Feedback& feedback, const std::string& accepted_id,
                     absl::Time at) {
  std::string encoded = "left-over bytes";
  EncodeFeedbackEntry(feedback, accepted_id, at, &encoded);
  EXPECT_EQ(encoded, Reference(feedback, accepted_id, at));
  alliance::internal::v1::FeedbackEntry parsed;
  ASSERT_TRUE(parsed.ParseFromString(encoded));
  EXPECT_EQ(parsed.feedback().SerializeAsString(), feedback.SerializeAsString());
  EXPECT_EQ(parsed.accepted_id(), accepted_id);
}

TEST(FeedbackEntryTest, SameBytesAsProtobuf) {
  ExpectSameBytes(Sample(), "0123456789abcdef0123456789abcdef",
                  absl::FromUnixNanos(1'764'000'000'123'456'789));
}

TEST(FeedbackEntryTest, ZeroTimestampPartsAndEmptyAcceptedId) {
  ExpectSameBytes(Sample(), "", absl::FromUnixSeconds(1'764'000'000));
  ExpectSameBytes(Sample(), "x", absl::FromUnixNanos(999));
  ExpectSameBytes(Sample(), "x", absl::UnixEpoch());
  ExpectSameBytes(alliance::v1::Feedback(), "x", absl::FromUnixNanos(1'764'000'000'000'000'001));
}

TEST(FeedbackEntryTest, LongFieldsNeedMultiByteLengths) {
  alliance::v1::Feedback f = Sample();
  f.set_session_id(std::string(128, 's'));
  for (int i = 0; i < 300; ++i) {
    auto* a = f.add_answers();
    a->set_item(i + 5);
    a->set_value(i * 0.1);
  }
  ExpectSameBytes(f, std::string(200, 'a'), absl::FromUnixNanos(1'764'000'000'000'000'001));
}

TEST(FeedbackEntryTest, UnknownFieldsAreKeptLikeACopyWould) {
  alliance::v1::Feedback f = Sample();
  // Field 999 (varint 7) is unknown to this build of the schema.
  std::string wire = f.SerializeAsString() + std::string("\xb8\x3e\x07", 3);
  alliance::v1::Feedback parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  ExpectSameBytes(parsed, "x", absl::FromUnixNanos(1'764'000'000'000'000'001));
}

}  // namespace
}  // namespace alliance
