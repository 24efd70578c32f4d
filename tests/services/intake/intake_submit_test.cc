// The real alliance-intake against a real redis-server: accepted submissions land in their
// partition's stream in the documented format; retries are answered from the idempotency
// record; every validation rule is INVALID_ARGUMENT naming the field with nothing written;
// batches report per item; oversized messages are refused; health and metrics are served.
#include <stdlib.h>

#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alliance/internal/v1/records.pb.h"
#include "analytics/hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/services/intake/intake_fixture.h"

namespace alliance::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class IntakeSubmitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    ASSERT_TRUE(intake_.Start(redis_.port()).ok()) << intake_.Log();
    redis_conn_ = ConnectOrDie(redis_);
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "intake log:\n" << intake_.Log();
  }

  RedisServer redis_;
  IntakeProcess intake_;
  std::unique_ptr<RedisConnection> redis_conn_;
  KeyLayout layout_{8};
};

// Field name -> value of one stream entry.
std::map<std::string, std::string> EntryFields(const redisReply& entry) {
  std::map<std::string, std::string> fields;
  const redisReply* list = entry.element[1];
  for (size_t i = 0; i + 1 < list->elements; i += 2) {
    fields[std::string(ReplyString(*list->element[i]))] =
        std::string(ReplyString(*list->element[i + 1]));
  }
  return fields;
}

TEST_F(IntakeSubmitTest, AcceptedSubmissionLandsInItsPartitionInTheDocumentedFormat) {
  alliance::v1::Feedback f = ValidFeedback("visit-1");
  alliance::v1::SubmitFeedbackResponse ack;
  grpc::Status status = Submit(intake_.stub(), f, &ack);
  ASSERT_TRUE(status.ok()) << status.error_message();

  int partition = layout_.PartitionOf(f.tenant_id(), f.therapist_id(), f.client_id());
  EXPECT_EQ(ack.partition(), partition);
  EXPECT_EQ(ack.accepted_id(), analytics::Hash128Hex({f.tenant_id(), f.idempotency_id()}));
  EXPECT_FALSE(ack.duplicate());
  ASSERT_FALSE(ack.stream_id().empty());

  std::string stream = layout_.FeedbackStream(partition);
  auto range = redis_conn_->Command({"XRANGE", stream, "-", "+"});
  ASSERT_TRUE(range.ok());
  ASSERT_EQ((*range)->elements, 1u);
  const redisReply& entry = *(*range)->element[0];
  EXPECT_EQ(ReplyString(*entry.element[0]), ack.stream_id());
  auto fields = EntryFields(entry);
  EXPECT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields["v"], "1");
  EXPECT_EQ(fields["tenant"], "clinic-a");
  EXPECT_EQ(fields["accepted_id"], ack.accepted_id());
  alliance::internal::v1::FeedbackEntry stored;
  ASSERT_TRUE(stored.ParseFromString(fields["entry"]));
  EXPECT_EQ(stored.feedback().SerializeAsString(), f.SerializeAsString());
  EXPECT_EQ(stored.accepted_id(), ack.accepted_id());
  EXPECT_GT(stored.accepted_at().seconds(), 0);
  EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), 1);

  // The idempotency record: "<content hash>|<stream id>|<accepted id>", expiring.
  std::string key = layout_.Idempotency(partition, f.tenant_id(), f.idempotency_id());
  auto record = redis_conn_->Command({"GET", key});
  ASSERT_TRUE(record.ok());
  std::string value(ReplyString(**record));
  EXPECT_THAT(value,
              ::testing::EndsWith(absl::StrCat("|", ack.stream_id(), "|", ack.accepted_id())));
  EXPECT_EQ(value.find('|'), 32u);
  auto ttl = redis_conn_->Command({"PTTL", key});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT((*ttl)->integer, 0);
  EXPECT_LE((*ttl)->integer, 24 * 3600 * 1000);
}

TEST_F(IntakeSubmitTest, RetryReturnsTheSameStreamIdAndTheStreamGrowsByOne) {
  alliance::v1::Feedback f = ValidFeedback("visit-2");
  alliance::v1::SubmitFeedbackResponse first, second;
  ASSERT_TRUE(Submit(intake_.stub(), f, &first).ok());
  // Answers listed in another order are the same content.
  std::swap(*f.mutable_answers(0), *f.mutable_answers(3));
  ASSERT_TRUE(Submit(intake_.stub(), f, &second).ok());
  EXPECT_EQ(second.stream_id(), first.stream_id());
  EXPECT_EQ(second.accepted_id(), first.accepted_id());
  EXPECT_FALSE(first.duplicate());
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), 1);
}

TEST_F(IntakeSubmitTest, SameIdempotencyIdWithOtherContentIsAlreadyExists) {
  alliance::v1::Feedback f = ValidFeedback("visit-3");
  alliance::v1::SubmitFeedbackResponse ack;
  ASSERT_TRUE(Submit(intake_.stub(), f, &ack).ok());
  f.mutable_answers(0)->set_value(2.0);
  grpc::Status status = Submit(intake_.stub(), f, &ack);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("idempotency_id"));
  EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), 1);
}

struct InvalidCase {
  std::string name;
  std::function<void(alliance::v1::Feedback&)> mutate;
  std::string field;  // expected start of the message
};

TEST_F(IntakeSubmitTest, EveryValidationRuleIsInvalidArgumentNamingTheFieldAndWritesNothing) {
  auto answer = [](alliance::v1::Feedback& f, int item, double value) {
    auto* a = f.add_answers();
    a->set_item(item);
    a->set_value(value);
  };
  std::vector<InvalidCase> cases = {
      {"empty tenant", [](auto& f) { f.clear_tenant_id(); }, "feedback.tenant_id: is required"},
      {"long tenant", [](auto& f) { f.set_tenant_id(std::string(129, 't')); },
       "feedback.tenant_id: is 129 characters"},
      {"tenant with space", [](auto& f) { f.set_tenant_id("clinic a"); },
       "feedback.tenant_id: must be 1..128 characters of [A-Za-z0-9._-]"},
      {"empty idempotency id", [](auto& f) { f.clear_idempotency_id(); },
       "feedback.idempotency_id: is required"},
      {"idempotency id with colon", [](auto& f) { f.set_idempotency_id("a:b"); },
       "feedback.idempotency_id: must be"},
      {"therapist with slash", [](auto& f) { f.set_therapist_id("t/1"); },
       "feedback.therapist_id: must be"},
      {"empty client", [](auto& f) { f.clear_client_id(); }, "feedback.client_id: is required"},
      {"long session id", [](auto& f) { f.set_session_id(std::string(200, 's')); },
       "feedback.session_id: is 200 characters"},
      {"session number 0", [](auto& f) { f.set_session_number(0); },
       "feedback.session_number: must be at least 1"},
      {"negative session number", [](auto& f) { f.set_session_number(-4); },
       "feedback.session_number: must be at least 1"},
      {"missing session time", [](auto& f) { f.clear_session_time(); },
       "feedback.session_time: is required"},
      {"session time in the future",
       [](auto& f) {
         f.mutable_session_time()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(3)));
       },
       "feedback.session_time: lies"},
      {"unspecified rater", [](auto& f) { f.set_rater(alliance::v1::RATER_UNSPECIFIED); },
       "feedback.rater: is required"},
      {"rater the instrument does not allow",
       [](auto& f) { f.set_rater(alliance::v1::RATER_THERAPIST); },
       "feedback.rater: RATER_THERAPIST may not fill in instrument 'srs'"},
      {"missing instrument", [](auto& f) { f.clear_instrument_id(); },
       "feedback.instrument_id: is required"},
      {"unknown instrument", [](auto& f) { f.set_instrument_id("phq-9"); },
       "feedback.instrument_id: unknown instrument 'phq-9'"},
      {"missing item", [](auto& f) { f.mutable_answers()->RemoveLast(); },
       "feedback.answers: item 4 of instrument srs is missing"},
      {"extra item", [&](auto& f) { answer(f, 5, 9.0); },
       "feedback.answers[4].item: 5 is outside 1..4"},
      {"duplicate item", [](auto& f) { f.mutable_answers(3)->set_item(1); },
       "feedback.answers[3].item: item 1 is answered twice"},
      {"answer off scale", [](auto& f) { f.mutable_answers(1)->set_value(10.5); },
       "feedback.answers[1].value: 10.5 is outside 0..10"},
      {"answer below scale", [](auto& f) { f.mutable_answers(2)->set_value(-1); },
       "feedback.answers[2].value: -1 is outside 0..10"},
      {"answer off step", [](auto& f) { f.mutable_answers(0)->set_value(9.05); },
       "feedback.answers[0].value: 9.05 is not on the scale's step"},
      {"answer not a number", [](auto& f) { f.mutable_answers(0)->set_value(std::nan("")); },
       "feedback.answers[0].value: must be a finite number"},
      {"unknown field",
       [](auto& f) {
         f.GetReflection()->MutableUnknownFields(&f)->AddLengthDelimited(99, std::string(16, 'x'));
       },
       "feedback.field number 99 is not a field of alliance.v1.Feedback"},
      {"unknown field in an answer",
       [](auto& f) {
         auto* a = f.mutable_answers(2);
         a->GetReflection()->MutableUnknownFields(a)->AddVarint(7, 1);
       },
       "feedback.answers[2]: field number 7 is not a field of alliance.v1.ItemAnswer"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    alliance::v1::Feedback f = ValidFeedback("visit-invalid");
    c.mutate(f);
    alliance::v1::SubmitFeedbackResponse ack;
    grpc::Status status = Submit(intake_.stub(), f, &ack);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), StartsWith(c.field));
  }
  alliance::v1::SubmitFeedbackRequest empty;
  alliance::v1::SubmitFeedbackResponse ack;
  grpc::ClientContext context;
  grpc::Status status = intake_.stub().SubmitFeedback(&context, empty, &ack);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "feedback: is required");
  // Nothing reached Redis: no stream, no idempotency record.
  EXPECT_EQ(KeyCount(*redis_conn_), 0);
}

TEST_F(IntakeSubmitTest, BatchReportsEveryItemOnItsOwn) {
  alliance::v1::Feedback taken = ValidFeedback("batch-taken");
  alliance::v1::SubmitFeedbackResponse ack;
  ASSERT_TRUE(Submit(intake_.stub(), taken, &ack).ok());

  alliance::v1::SubmitFeedbackBatchRequest request;
  *request.add_feedback() = ValidFeedback("batch-1", "client-2");
  alliance::v1::Feedback invalid = ValidFeedback("batch-2");
  invalid.set_session_number(0);
  *request.add_feedback() = invalid;
  alliance::v1::Feedback conflicting = taken;
  conflicting.set_session_number(4);
  *request.add_feedback() = conflicting;
  *request.add_feedback() = taken;  // a retry of the earlier submission
  *request.add_feedback() = ValidFeedback("batch-3", "client-3");
  // The same new submission twice in one batch: written once, the other is its duplicate.
  *request.add_feedback() = ValidFeedback("batch-4", "client-4");
  *request.add_feedback() = ValidFeedback("batch-4", "client-4");

  alliance::v1::SubmitFeedbackBatchResponse response;
  grpc::ClientContext context;
  grpc::Status status = intake_.stub().SubmitFeedbackBatch(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 7);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(response.results(i).index(), i);
  EXPECT_EQ(response.results(0).code(), 0);
  EXPECT_FALSE(response.results(0).ack().stream_id().empty());
  EXPECT_EQ(response.results(1).code(), 3);
  EXPECT_THAT(response.results(1).message(), StartsWith("feedback[1].session_number"));
  EXPECT_EQ(response.results(2).code(), 6);
  EXPECT_EQ(response.results(3).code(), 0);
  EXPECT_TRUE(response.results(3).ack().duplicate());
  EXPECT_EQ(response.results(3).ack().stream_id(), ack.stream_id());
  EXPECT_EQ(response.results(4).code(), 0);
  EXPECT_EQ(response.results(5).code(), 0);
  EXPECT_EQ(response.results(6).code(), 0);
  EXPECT_EQ(response.results(5).ack().stream_id(), response.results(6).ack().stream_id());
  EXPECT_NE(response.results(5).ack().duplicate(), response.results(6).ack().duplicate());
  EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), 4);

  alliance::v1::SubmitFeedbackBatchRequest too_big;
  for (int i = 0; i < 501; ++i) *too_big.add_feedback() = ValidFeedback(absl::StrCat("big-", i));
  grpc::ClientContext context2;
  status = intake_.stub().SubmitFeedbackBatch(&context2, too_big, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("1..500"));
  EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), 4);
}

// Many submissions in one call reach the writers together, so the script handles several per
// partition in one EVALSHA: every item must get its own result, and each stream id must point
// at that very submission.
TEST_F(IntakeSubmitTest, LargeBatchGivesEveryItemItsOwnStreamPosition) {
  constexpr int kDistinct = 120;
  alliance::v1::SubmitFeedbackBatchRequest request;
  for (int i = 0; i < kDistinct; ++i) {
    *request.add_feedback() =
        ValidFeedback(absl::StrCat("bulk-", i), absl::StrCat("client-", i % 37));
  }
  // Retries of items of the same call: duplicates of submissions not yet acknowledged.
  for (int i = 0; i < 30; ++i) *request.add_feedback() = request.feedback(i * 4);
  alliance::v1::SubmitFeedbackBatchResponse response;
  grpc::ClientContext context;
  grpc::Status status = intake_.stub().SubmitFeedbackBatch(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), request.feedback_size());
  EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), kDistinct);

  // (partition, stream id) -> accepted id; stream ids are only unique within one stream.
  std::map<std::pair<int, std::string>, std::string> accepted_at_position;
  for (int p = 0; p < layout_.partitions(); ++p) {
    auto range = redis_conn_->Command({"XRANGE", layout_.FeedbackStream(p), "-", "+"});
    ASSERT_TRUE(range.ok());
    for (size_t e = 0; e < (*range)->elements; ++e) {
      const redisReply& entry = *(*range)->element[e];
      accepted_at_position[{p, std::string(ReplyString(*entry.element[0]))}] =
          EntryFields(entry)["accepted_id"];
    }
  }
  int duplicates = 0;
  for (int i = 0; i < response.results_size(); ++i) {
    const auto& result = response.results(i);
    ASSERT_EQ(result.code(), 0) << i << ": " << result.message();
    const alliance::v1::Feedback& f = request.feedback(i);
    EXPECT_EQ(result.ack().accepted_id(),
              analytics::Hash128Hex({f.tenant_id(), f.idempotency_id()}));
    EXPECT_EQ(result.ack().partition(),
              layout_.PartitionOf(f.tenant_id(), f.therapist_id(), f.client_id()));
    EXPECT_EQ((accepted_at_position[{result.ack().partition(), result.ack().stream_id()}]),
              result.ack().accepted_id())
        << i;
    if (result.ack().duplicate()) ++duplicates;
  }
  EXPECT_EQ(duplicates, 30);
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(response.results(kDistinct + i).ack().stream_id(),
              response.results(i * 4).ack().stream_id());
  }
}

// One new idempotency id with two different contents in one call: whichever reaches Redis
// first is written, the other is ALREADY_EXISTS, and nothing else is written.
TEST_F(IntakeSubmitTest, ConflictingContentInOneBatchIsWrittenOnce) {
  alliance::v1::SubmitFeedbackBatchRequest request;
  alliance::v1::Feedback f = ValidFeedback("twice", "client-9");
  *request.add_feedback() = f;
  f.mutable_answers(0)->set_value(3.0);
  *request.add_feedback() = f;
  alliance::v1::SubmitFeedbackBatchResponse response;
  grpc::ClientContext context;
  grpc::Status status = intake_.stub().SubmitFeedbackBatch(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 2);
  std::multiset<int> codes = {response.results(0).code(), response.results(1).code()};
  EXPECT_EQ(codes, (std::multiset<int>{0, 6}));
  EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), 1);
}

TEST_F(IntakeSubmitTest, MessagesOverOneMebibyteAreRefused) {
  alliance::v1::Feedback f = ValidFeedback("huge");
  while (f.ByteSizeLong() <= (1u << 20)) {
    for (int i = 0; i < 1000; ++i) {
      auto* a = f.add_answers();
      a->set_item(1);
      a->set_value(1.0);
    }
  }
  alliance::v1::SubmitFeedbackResponse ack;
  grpc::Status status = Submit(intake_.stub(), f, &ack);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(KeyCount(*redis_conn_), 0);
  // The server is still fine afterwards.
  EXPECT_TRUE(Submit(intake_.stub(), ValidFeedback("after-huge"), &ack).ok());
}

// libprotobuf complains about every string field with invalid UTF-8: its lines go into the JSON
// log, and at a bounded rate, however many such requests come.
TEST_F(IntakeSubmitTest, InvalidUtf8RequestsNeitherBreakNorFloodTheLog) {
  constexpr int kRequests = 300;
  for (int i = 0; i < kRequests; ++i) {
    alliance::v1::Feedback f = ValidFeedback(absl::StrCat("utf8-", i));
    f.set_client_id("caf\xc3");  // cut in the middle of a two-byte sequence
    alliance::v1::SubmitFeedbackResponse ack;
    EXPECT_FALSE(Submit(intake_.stub(), f, &ack).ok());
  }
  std::istringstream lines(intake_.Log());
  std::string line;
  int library_lines = 0;
  while (std::getline(lines, line)) {
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(parsed.is_object()) << "not a JSON line: " << line;
    if (parsed.value("event", "") == "library_log") ++library_lines;
  }
  EXPECT_GE(library_lines, 1);
  // The burst allowance and one line a second for however long the requests took.
  EXPECT_LT(library_lines, kRequests / 2);
}

TEST_F(IntakeSubmitTest, HealthLivenessAndMetricsAreServed) {
  EXPECT_EQ(intake_.Serving(""), true);
  EXPECT_EQ(intake_.Serving("alliance.v1.FeedbackIntake"), true);
  EXPECT_EQ(intake_.Serving("liveness"), true);
  EXPECT_EQ(intake_.Serving("", intake_.health_port()), true);

  alliance::v1::SubmitFeedbackResponse ack;
  ASSERT_TRUE(Submit(intake_.stub(), ValidFeedback("metrics-1"), &ack).ok());
  alliance::v1::Feedback bad = ValidFeedback("metrics-2");
  bad.clear_client_id();
  ASSERT_FALSE(Submit(intake_.stub(), bad, &ack).ok());
  // Labels in name order, as the exposition writes them.
  EXPECT_EQ(intake_.Metric(R"(alliance_intake_requests_total{code="OK",method="SubmitFeedback"})"),
            1);
  EXPECT_EQ(intake_.Metric(R"(alliance_intake_requests_total{code="INVALID_ARGUMENT",)"
                           R"(method="SubmitFeedback"})"),
            1);
  EXPECT_EQ(intake_.Metric(R"(alliance_intake_writes_total{outcome="appended"})"), 1);
  EXPECT_EQ(intake_.Metric(R"(alliance_intake_request_duration_seconds_count{)"
                           R"(method="SubmitFeedback"})"),
            2);
  EXPECT_EQ(intake_.Metric("alliance_intake_queue_depth"), 0);
  EXPECT_EQ(intake_.Metric("alliance_intake_writers_connected"), 2);
  // Logs are JSON lines and never carry answers.
  std::string log = intake_.Log();
  EXPECT_THAT(log, HasSubstr(R"("event":"listening")"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("answers")));
}

TEST_F(IntakeSubmitTest, ScriptCacheFlushedInRedisIsLoadedAgain) {
  alliance::v1::SubmitFeedbackResponse ack;
  ASSERT_TRUE(Submit(intake_.stub(), ValidFeedback("before-flush"), &ack).ok());
  auto flushed = redis_conn_->Command({"SCRIPT", "FLUSH"});
  ASSERT_TRUE(flushed.ok());
  // Both writers meet NOSCRIPT on their next write, reload the script and write.
  for (int i = 0; i < 8; ++i) {
    grpc::Status status = Submit(intake_.stub(), ValidFeedback(absl::StrCat("after-", i)), &ack);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), 9);
  EXPECT_GE(intake_.Metric(R"(alliance_intake_redis_errors_total{kind="noscript"})"), 1);
}

TEST_F(IntakeSubmitTest, ReflectionIsOffByDefault) {
  std::string raw;
  grpc::Status status = ReflectionListServices(intake_.channel(), &raw);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST(IntakeReflectionTest, EnableReflectionServesTheServiceList) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  IntakeProcess intake;
  ASSERT_TRUE(intake.Start(redis.port(), {"--enable_reflection"}).ok()) << intake.Log();
  std::string raw;
  grpc::Status status = ReflectionListServices(intake.channel(), &raw);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(raw, HasSubstr("alliance.v1.FeedbackIntake"));
  EXPECT_THAT(raw, HasSubstr("grpc.health.v1.Health"));
}

TEST_F(IntakeSubmitTest, ASecondInstanceOnTheSamePortFailsToStart) {
  ChildProcess second;
  ASSERT_TRUE(
      second
          .Start(BinaryPath("alliance-intake"),
                 {"--listen_host=127.0.0.1", absl::StrCat("--grpc_port=", intake_.grpc_port()),
                  absl::StrCat("--redis_port=", redis_.port()), "--auth_disabled"},
                 redis_.dir() + "/second-intake.log")
          .ok());
  std::optional<int> exit_code = second.Wait(absl::Seconds(30));
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 1);
  EXPECT_THAT(second.ReadLog(), HasSubstr(R"("event":"startup_failed")"));
}

// Flags have environment equivalents: ALLIANCE_MAX_CLOCK_SKEW widens the allowed skew.
TEST(IntakeFlagsTest, EnvironmentVariablesSetFlags) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  setenv("ALLIANCE_MAX_CLOCK_SKEW", "6h", 1);
  IntakeProcess intake;
  absl::Status started = intake.Start(redis.port());
  unsetenv("ALLIANCE_MAX_CLOCK_SKEW");
  ASSERT_TRUE(started.ok()) << intake.Log();
  alliance::v1::Feedback f = ValidFeedback("skewed");
  f.mutable_session_time()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(3)));
  alliance::v1::SubmitFeedbackResponse ack;
  grpc::Status status = Submit(intake.stub(), f, &ack);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

}  // namespace
}  // namespace alliance::testing
