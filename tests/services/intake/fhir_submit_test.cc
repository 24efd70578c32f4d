// FHIR R4 QuestionnaireResponses into the real alliance-intake (HTTP POST on its HTTP port and
// the gRPC method) against a real redis-server: each built-in instrument is stored as the same
// Feedback a native submission makes; retries are answered from the idempotency record; every
// malformed resource gets an OperationOutcome naming the bad element and nothing is stored; keys
// and scopes are those of the gRPC API.
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alliance/internal/v1/records.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/services/intake/intake_fixture.h"
#include "tests/support/api_keys.h"
#include "tests/support/questionnaire_responses.h"

namespace alliance::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kFhirJson[] = "application/fhir+json";

struct Outcome {
  int status = 0;
  std::string expression;  // issue[0].expression[0], empty when none
  std::string diagnostics;
  httplib::Headers headers;
};

class FhirSubmitTest : public ::testing::Test {
 protected:
  void Start(const std::vector<std::string>& args = {}) {
    ASSERT_TRUE(redis_.Start().ok());
    ASSERT_TRUE(intake_.Start(redis_.port(), args).ok()) << intake_.Log();
    redis_conn_ = ConnectOrDie(redis_);
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "intake log:\n" << intake_.Log();
  }

  // Without a key (auth disabled) the tenant is named in the query, as the gRPC request would.
  Outcome Post(const std::string& body, const std::string& key = "",
               const std::string& content_type = kFhirJson) {
    const std::string path = key.empty() && !with_keys_
                                 ? "/fhir/QuestionnaireResponse?tenant=clinic-a"
                                 : "/fhir/QuestionnaireResponse";
    httplib::Client client("127.0.0.1", intake_.http_port());
    client.set_read_timeout(20, 0);
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    httplib::Result result = client.Post(path.c_str(), headers, body, content_type.c_str());
    Outcome out;
    if (!result) {
      ADD_FAILURE() << "no HTTP response: " << httplib::to_string(result.error());
      return out;
    }
    out.status = result->status;
    out.headers = result->headers;
    EXPECT_EQ(result->get_header_value("Content-Type"), kFhirJson);
    nlohmann::json json = nlohmann::json::parse(result->body, nullptr, false);
    EXPECT_TRUE(json.is_object()) << result->body;
    if (!json.is_object()) return out;
    EXPECT_EQ(json.value("resourceType", ""), "OperationOutcome") << result->body;
    const nlohmann::json& issue = json["issue"][0];
    out.diagnostics = issue.value("diagnostics", "");
    if (issue.contains("expression")) out.expression = issue["expression"][0].get<std::string>();
    return out;
  }

  // The Feedback of the only entry of the feedback streams.
  alliance::v1::Feedback OnlyStoredFeedback() {
    EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), 1);
    for (int p = 0; p < layout_.partitions(); ++p) {
      auto reply = redis_conn_->Command({"XRANGE", layout_.FeedbackStream(p), "-", "+"});
      if (!reply.ok() || (*reply)->elements == 0) continue;
      const redisReply* fields = (*reply)->element[0]->element[1];
      for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        if (ReplyString(*fields->element[i]) != "entry") continue;
        alliance::internal::v1::FeedbackEntry entry;
        EXPECT_TRUE(entry.ParseFromString(std::string(ReplyString(*fields->element[i + 1]))));
        return entry.feedback();
      }
    }
    ADD_FAILURE() << "no stored entry";
    return {};
  }

  RedisServer redis_;
  IntakeProcess intake_;
  std::unique_ptr<RedisConnection> redis_conn_;
  KeyLayout layout_{8};
  bool with_keys_ = false;
};

struct InstrumentCase {
  std::string id;
  std::string rater;
  std::vector<double> answers;
  bool decimal;
};

TEST_F(FhirSubmitTest, EachBuiltInInstrumentIsStoredAsTheFeedbackItMapsTo) {
  Start();
  const std::vector<InstrumentCase> cases = {
      {"srs", "client", {8.5, 9, 7.2, 10}, true},
      {"wai-sr", "client", {5, 4, 4, 3, 5, 4, 2, 1, 3, 4, 5, 4}, false},
      {"wai-sr-t", "therapist", {4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4}, false},
      {"haq-ii", "therapist", std::vector<double>(19, 5), false},
      {"sai", "client", {0, 1, 2, 3, 4, 6}, false},
  };
  int64_t stored = 0;
  for (const InstrumentCase& c : cases) {
    SCOPED_TRACE(c.id);
    QuestionnaireResponseSpec spec;
    spec.identifier = "qr-" + c.id;
    spec.instrument_id = c.id;
    spec.rater = c.rater;
    spec.client_id = "client-" + c.id;
    spec.session_number = 4;
    spec.answers = c.answers;
    spec.decimal = c.decimal;
    Outcome created = Post(QuestionnaireResponseJson(spec));
    EXPECT_EQ(created.status, 201) << created.diagnostics;
    ++stored;
    EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), stored);
  }
  // The last one, field by field, as a native submission would store it.
  redis_conn_->Command({"FLUSHALL"}).IgnoreError();
  QuestionnaireResponseSpec spec;
  spec.identifier = "qr-fields";
  spec.instrument_id = "srs";
  spec.client_id = "client-9";
  spec.therapist_id = "therapist-3";
  spec.session_number = 6;
  spec.authored = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z
  spec.answers = {8.5, 9, 7.2, 10};
  spec.decimal = true;
  ASSERT_EQ(Post(QuestionnaireResponseJson(spec)).status, 201);
  alliance::v1::Feedback f = OnlyStoredFeedback();
  EXPECT_EQ(f.tenant_id(), "clinic-a");
  EXPECT_EQ(f.idempotency_id(), "qr-fields");
  EXPECT_EQ(f.therapist_id(), "therapist-3");
  EXPECT_EQ(f.client_id(), "client-9");
  EXPECT_EQ(f.session_id(), "s-6");
  EXPECT_EQ(f.session_number(), 6);
  EXPECT_EQ(f.session_time().seconds(), 1767225600);
  EXPECT_EQ(f.rater(), alliance::v1::RATER_CLIENT);
  EXPECT_EQ(f.instrument_id(), "srs");
  ASSERT_EQ(f.answers_size(), 4);
  EXPECT_EQ(f.answers(2).item(), 3);
  EXPECT_DOUBLE_EQ(f.answers(2).value(), 7.2);
}

TEST_F(FhirSubmitTest, RetryIsAnsweredFromTheIdempotencyRecordAndOtherContentConflicts) {
  Start();
  QuestionnaireResponseSpec spec;
  spec.identifier = "qr-retry";
  spec.answers = {8, 9, 7, 10};
  spec.decimal = true;  // SRS lines are decimals (valueDecimal)
  const std::string body = QuestionnaireResponseJson(spec);
  Outcome first = Post(body);
  Outcome again = Post(body);
  EXPECT_EQ(first.status, 201);
  EXPECT_EQ(again.status, 200);
  auto header = [](const Outcome& o, const char* name) {
    auto it = o.headers.find(name);
    return it == o.headers.end() ? std::string() : it->second;
  };
  EXPECT_FALSE(header(first, "X-Alliance-Accepted-Id").empty());
  EXPECT_EQ(header(again, "X-Alliance-Accepted-Id"), header(first, "X-Alliance-Accepted-Id"));
  EXPECT_EQ(header(again, "X-Alliance-Stream-Id"), header(first, "X-Alliance-Stream-Id"));
  spec.answers[0] = 2;
  Outcome conflict = Post(QuestionnaireResponseJson(spec));
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.expression, "QuestionnaireResponse.identifier");
  EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), 1);
}

TEST_F(FhirSubmitTest, MalformedResourcesGetAnOutcomeNamingTheElementAndStoreNothing) {
  Start();
  QuestionnaireResponseSpec spec;
  spec.identifier = "qr-bad";
  spec.answers = {8, 9, 7, 10};
  spec.decimal = true;  // SRS lines are decimals (valueDecimal)
  const nlohmann::json good = nlohmann::json::parse(QuestionnaireResponseJson(spec));
  struct Case {
    std::string name;
    std::function<void(nlohmann::json&)> mutate;
    std::string expression;  // expected start of the expression
  };
  const std::vector<Case> cases = {
      {"wrong type",
       [](nlohmann::json& r) {
         r["item"][1]["answer"][0] = {{"valueString", "9"}};
       },
       "QuestionnaireResponse.item[1].answer[0]"},
      {"no subject", [](nlohmann::json& r) { r.erase("subject"); },
       "QuestionnaireResponse.subject"},
      {"unknown questionnaire",
       [](nlohmann::json& r) {
         r["questionnaire"] = "https://alliance.health/fhir/Questionnaire/x";
       },
       "QuestionnaireResponse.questionnaire"},
      {"answer off the scale",
       [](nlohmann::json& r) {
         r["item"][2]["answer"][0] = {{"valueDecimal", 11.5}};
       },
       "QuestionnaireResponse.item[2].answer[0]"},
      {"missing item", [](nlohmann::json& r) { r["item"].erase(3); }, "QuestionnaireResponse.item"},
      {"not completed", [](nlohmann::json& r) { r["status"] = "in-progress"; },
       "QuestionnaireResponse.status"},
      {"future session", [](nlohmann::json& r) { r["authored"] = "2099-01-01T00:00:00Z"; },
       "QuestionnaireResponse.authored"},
      {"not a resource",
       [](nlohmann::json& r) {
         r = nlohmann::json::array({1, 2});
       },
       "QuestionnaireResponse"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    nlohmann::json resource = good;
    c.mutate(resource);
    Outcome outcome = Post(resource.dump());
    EXPECT_EQ(outcome.status, 400);
    EXPECT_THAT(outcome.expression, StartsWith(c.expression)) << outcome.diagnostics;
    EXPECT_FALSE(outcome.diagnostics.empty());
  }
  Outcome not_json = Post("{\"resourceType\": \"QuestionnaireResponse\",");
  EXPECT_EQ(not_json.status, 400);
  Outcome plain_text = Post(good.dump(), "", "text/plain");
  EXPECT_EQ(plain_text.status, 400);
  EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), 0);
}

TEST_F(FhirSubmitTest, TheGrpcMethodTakesTheSameResourceWithTheSameAnswers) {
  Start();
  QuestionnaireResponseSpec spec;
  spec.identifier = "qr-grpc";
  spec.answers = {8, 9, 7, 10};
  spec.decimal = true;  // SRS lines are decimals (valueDecimal)
  alliance::v1::SubmitQuestionnaireResponseRequest request;
  request.set_tenant_id("clinic-a");
  request.set_questionnaire_response_json(QuestionnaireResponseJson(spec));
  alliance::v1::SubmitFeedbackResponse ack;
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Status status = intake_.stub().SubmitQuestionnaireResponse(&context, request, &ack);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_FALSE(ack.duplicate());
  }
  // The same resource over HTTP is a retry of it.
  Outcome again = Post(request.questionnaire_response_json());
  EXPECT_EQ(again.status, 200);
  spec.identifier = "qr-grpc-bad";
  spec.answers = {8, 9, 7};
  spec.decimal = true;
  request.set_questionnaire_response_json(QuestionnaireResponseJson(spec));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  grpc::Status status = intake_.stub().SubmitQuestionnaireResponse(&context, request, &ack);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), StartsWith("QuestionnaireResponse.item"));
  EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), 1);
}

TEST_F(FhirSubmitTest, KeysScopesAndTenantsAreThoseOfTheGrpcApi) {
  const std::string keys_file =
      absl::StrCat(::testing::TempDir(), "/fhir-submit-keys-", getpid(), ".json");
  ASSERT_TRUE(WriteApiKeyFile(keys_file, {{"submitter", "submit-key", "clinic-a", {"submit"}},
                                          {"reader", "read-key", "clinic-a", {"read"}}})
                  .ok());
  with_keys_ = true;
  Start({"--api_keys_file=" + keys_file});
  QuestionnaireResponseSpec spec;
  spec.identifier = "qr-keys";
  spec.answers = {8, 9, 7, 10};
  spec.decimal = true;  // SRS lines are decimals (valueDecimal)
  const std::string body = QuestionnaireResponseJson(spec);
  Outcome none = Post(body);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers.find("WWW-Authenticate")->second, "Bearer");
  EXPECT_EQ(Post(body, "wrong-key").status, 401);
  Outcome no_scope = Post(body, "read-key");
  EXPECT_EQ(no_scope.status, 403);
  EXPECT_THAT(no_scope.diagnostics, HasSubstr("submit"));
  EXPECT_EQ(TotalFeedbackEntries(*redis_conn_, layout_), 0);
  // The CapabilityStatement is public, as FHIR clients expect.
  httplib::Client client("127.0.0.1", intake_.http_port());
  httplib::Result metadata = client.Get("/fhir/metadata");
  ASSERT_TRUE(metadata);
  EXPECT_EQ(metadata->status, 200);
  EXPECT_THAT(metadata->body, HasSubstr("\"QuestionnaireResponse\""));
  // An unauthenticated caller learns nothing about its resource, even a malformed one.
  EXPECT_EQ(Post("not json").status, 401);
  EXPECT_EQ(Post(body, "submit-key").status, 201);
  EXPECT_EQ(OnlyStoredFeedback().tenant_id(), "clinic-a");
}

}  // namespace
}  // namespace alliance::testing
