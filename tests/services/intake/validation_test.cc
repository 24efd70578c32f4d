// Unit tests of submission validation against the built-in instrument registry: identifier
// rules at their boundaries, the clock-skew boundary, and field paths in messages.
#include "services/intake/validation.h"

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alliance::intake {
namespace {

using ::testing::StartsWith;

alliance::v1::Feedback Valid(absl::Time now) {
  alliance::v1::Feedback f;
  f.set_tenant_id("t");
  f.set_idempotency_id("i");
  f.set_therapist_id("th");
  f.set_client_id("c");
  f.set_session_id("s");
  f.set_session_number(1);
  f.mutable_session_time()->set_seconds(absl::ToUnixSeconds(now));
  f.set_rater(alliance::v1::RATER_CLIENT);
  f.set_instrument_id("srs");
  for (int item = 1; item <= 4; ++item) {
    auto* a = f.add_answers();
    a->set_item(item);
    a->set_value(7.3);  // on the 0.1 step, though not exact in binary
  }
  return f;
}

const analytics::InstrumentRegistry& Registry() { return analytics::InstrumentRegistry::BuiltIn(); }

TEST(ValidationTest, AcceptsAValidSubmission) {
  absl::Time now = absl::Now();
  EXPECT_TRUE(ValidateFeedback(Valid(now), Registry(), {}, now).ok());
}

TEST(ValidationTest, IdentifierBoundaries) {
  EXPECT_TRUE(IsValidId("a"));
  EXPECT_TRUE(IsValidId(std::string(128, 'x')));
  EXPECT_TRUE(IsValidId("A-z_0.9"));
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId(std::string(129, 'x')));
  for (const char* bad : {"a b", "a:b", "a/b", "a{b", "é", "a\nb", "a|b"}) {
    EXPECT_FALSE(IsValidId(bad)) << bad;
  }
}

TEST(ValidationTest, ClockSkewBoundary) {
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  ValidationPolicy policy{.max_clock_skew = absl::Minutes(5)};
  alliance::v1::Feedback f = Valid(now);
  f.mutable_session_time()->set_seconds(absl::ToUnixSeconds(now + absl::Minutes(5)));
  EXPECT_TRUE(ValidateFeedback(f, Registry(), policy, now).ok());
  f.mutable_session_time()->set_nanos(1);
  absl::Status s = ValidateFeedback(f, Registry(), policy, now);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), StartsWith("session_time: lies"));
  f.mutable_session_time()->set_nanos(-1);
  EXPECT_THAT(std::string(ValidateFeedback(f, Registry(), policy, now).message()),
              StartsWith("session_time.nanos"));
}

TEST(ValidationTest, SessionNumberBounds) {
  absl::Time now = absl::Now();
  alliance::v1::Feedback f = Valid(now);
  f.set_session_number(kMaxSessionNumber);
  EXPECT_TRUE(ValidateFeedback(f, Registry(), {}, now).ok());
  f.set_session_number(kMaxSessionNumber + 1);
  EXPECT_THAT(std::string(ValidateFeedback(f, Registry(), {}, now).message()),
              StartsWith("session_number: must be at most"));
}

TEST(ValidationTest, UnknownRaterValueAndIllFormedInstrumentAreNotEchoed) {
  absl::Time now = absl::Now();
  alliance::v1::Feedback f = Valid(now);
  f.set_rater(static_cast<alliance::v1::Rater>(42));
  EXPECT_EQ(std::string(ValidateFeedback(f, Registry(), {}, now).message()),
            "rater: unknown value 42");
  f = Valid(now);
  f.set_instrument_id("free text with spaces");
  EXPECT_EQ(std::string(ValidateFeedback(f, Registry(), {}, now).message()),
            "instrument_id: unknown instrument");
}

TEST(ValidationTest, UnknownFieldsAreRefusedWhereverTheyAre) {
  absl::Time now = absl::Now();
  alliance::v1::Feedback f = Valid(now);
  // Large enough to matter if it were stored: it never reaches a stream.
  f.GetReflection()->MutableUnknownFields(&f)->AddLengthDelimited(4242,
                                                                  std::string(900 << 10, 'x'));
  absl::Status s = ValidateFeedback(f, Registry(), {}, now);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), StartsWith("field number 4242 is not a field of"));

  alliance::v1::Feedback in_time = Valid(now);
  auto* time = in_time.mutable_session_time();
  time->GetReflection()->MutableUnknownFields(time)->AddFixed32(3, 1);
  s = ValidateFeedback(in_time, Registry(), {}, now);
  EXPECT_THAT(std::string(s.message()), StartsWith("session_time: field number 3"));

  alliance::v1::Feedback in_answer = Valid(now);
  auto* answer = in_answer.mutable_answers(1);
  answer->GetReflection()->MutableUnknownFields(answer)->AddVarint(9, 5);
  s = ValidateFeedback(in_answer, Registry(), {}, now);
  EXPECT_THAT(std::string(s.message()), StartsWith("answers[1]: field number 9"));
}

TEST(ValidationTest, PrefixFieldPath) {
  EXPECT_TRUE(PrefixFieldPath(absl::OkStatus(), "feedback.").ok());
  absl::Status s =
      PrefixFieldPath(absl::InvalidArgumentError("client_id: is required"), "feedback[2].");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "feedback[2].client_id: is required");
}

}  // namespace
}  // namespace alliance::intake
