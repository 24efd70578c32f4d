// QuestionnaireResponse -> Feedback (common/fhir/questionnaire_response.h): every mapping rule,
// each malformed case with the exact FHIRPath, the round trip per built-in instrument, and the
// OperationOutcome mapping.
#include "common/fhir/questionnaire_response.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "analytics/registry.h"
#include "common/fhir/questionnaire.h"
#include "nlohmann/json.hpp"
#include "tests/fhir/qr_builder.h"

namespace alliance::fhir {
namespace {

using nlohmann::json;
using testing::MakeResponse;

const analytics::InstrumentRegistry& Registry() { return analytics::InstrumentRegistry::BuiltIn(); }

json QuestionnaireOf(std::string_view id) {
  return json::parse(QuestionnaireJson(*Registry().Find(id)));
}

// A valid WAI-SR response by the client, nested as the Questionnaire groups it; item i answered
// 1 + i % 5.
json Wai(bool nested = true) {
  return MakeResponse(
      QuestionnaireOf("wai-sr"), "client", [](int i) { return 1 + i % 5; }, nested);
}

json Srs() {
  return MakeResponse(QuestionnaireOf("srs"), "client", [](int i) { return 8.5 + i * 0.3; });
}

absl::StatusOr<alliance::v1::Feedback> Parse(const json& qr) {
  return FeedbackFromQuestionnaireResponse(qr.dump(), Registry());
}

// Expects INVALID_ARGUMENT naming `expression`; returns the reason.
std::string ExpectIssue(const absl::StatusOr<alliance::v1::Feedback>& result,
                        const std::string& expression) {
  EXPECT_FALSE(result.ok()) << "expected an error at " << expression;
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  Issue issue = IssueFromStatus(result.status());
  EXPECT_EQ(issue.expression, expression) << result.status();
  EXPECT_EQ(std::string(result.status().message()), expression + ": " + issue.message);
  return issue.message;
}

// The index in qr["extension"] of the extension with `url`.
size_t ExtIndex(const json& qr, std::string_view url) {
  for (size_t i = 0; i < qr["extension"].size(); ++i) {
    if (qr["extension"][i]["url"] == url) return i;
  }
  ADD_FAILURE() << "no extension " << url;
  return 0;
}

TEST(FeedbackFromQuestionnaireResponseTest, MapsEveryElement) {
  absl::StatusOr<alliance::v1::Feedback> f = Parse(Wai());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->tenant_id(), "");
  EXPECT_EQ(f->idempotency_id(), "sub-0001");
  EXPECT_EQ(f->client_id(), "cl-0042");
  EXPECT_EQ(f->therapist_id(), "th-05");
  EXPECT_EQ(f->session_id(), "sess-7");
  EXPECT_EQ(f->session_number(), 7);
  // 2026-03-02T10:30:00+01:00 = 09:30:00Z.
  EXPECT_EQ(f->session_time().seconds(), 1772443800);
  EXPECT_EQ(f->session_time().nanos(), 0);
  EXPECT_EQ(f->rater(), alliance::v1::RATER_CLIENT);
  EXPECT_EQ(f->instrument_id(), "wai-sr");
  ASSERT_EQ(f->answers_size(), 12);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(f->answers(i).item(), i + 1);
    EXPECT_EQ(f->answers(i).value(), 1 + (i + 1) % 5);
  }
}

TEST(FeedbackFromQuestionnaireResponseTest, FlatListAndCanonicalWithoutVersionAccepted) {
  json qr = Wai(/*nested=*/false);
  qr["questionnaire"] = QuestionnaireUrl("wai-sr");
  absl::StatusOr<alliance::v1::Feedback> f = Parse(qr);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->answers_size(), 12);
}

TEST(FeedbackFromQuestionnaireResponseTest, TherapistAuthorIsTheTherapist) {
  json qr = MakeResponse(QuestionnaireOf("wai-sr-t"), "therapist", [](int) { return 4; });
  absl::StatusOr<alliance::v1::Feedback> f = Parse(qr);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->rater(), alliance::v1::RATER_THERAPIST);
  EXPECT_EQ(f->therapist_id(), "th-05");
  // The extension may repeat the therapist, but not name another one.
  qr["extension"].push_back({{"url", kTherapistExtension},
                             {"valueReference", testing::ByIdentifier(kTherapistSystem, "th-9")}});
  ExpectIssue(Parse(qr), "QuestionnaireResponse.extension");
}

TEST(FeedbackFromQuestionnaireResponseTest, ObserverNeedsTheTherapistExtension) {
  // An operator's form that observers fill in.
  auto registry = analytics::InstrumentRegistry::WithExtra({{"observed.json", R"({
    "id": "observed", "name": "Observer form", "raters": ["observer"], "item_count": 3,
    "item_min": 0, "item_max": 4, "step": 1, "reverse_items": [], "subscales": [],
    "population_sd": 2, "reliability": 0.8})"}});
  ASSERT_TRUE(registry.ok()) << registry.status();
  json qr = MakeResponse(json::parse(QuestionnaireJson(*registry->Find("observed"))), "observer",
                         [](int) { return 3; });
  absl::StatusOr<alliance::v1::Feedback> f =
      FeedbackFromQuestionnaireResponse(qr.dump(), *registry);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->rater(), alliance::v1::RATER_OBSERVER);
  EXPECT_EQ(f->therapist_id(), "th-05");
  json no_therapist = qr;
  no_therapist["extension"].erase(ExtIndex(qr, kTherapistExtension));
  ExpectIssue(FeedbackFromQuestionnaireResponse(no_therapist.dump(), *registry),
              "QuestionnaireResponse.extension");
  json bad_therapist = qr;
  bad_therapist["extension"][ExtIndex(qr, kTherapistExtension)]["valueReference"]["identifier"]
               ["value"] = "th 05";
  ExpectIssue(FeedbackFromQuestionnaireResponse(bad_therapist.dump(), *registry),
              "QuestionnaireResponse.extension[1].valueReference.identifier.value");
  // The built-in SAI does not allow observers.
  qr["questionnaire"] = QuestionnaireUrl("sai");
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.author"),
            "a observer may not fill in questionnaire sai");
}

TEST(FeedbackFromQuestionnaireResponseTest, ClientAuthorMustBeTheSubject) {
  json qr = Wai();
  qr["author"]["identifier"]["value"] = "cl-other";
  ExpectIssue(Parse(qr), "QuestionnaireResponse.author.identifier.value");
}

TEST(FeedbackFromQuestionnaireResponseTest, RaterNotAllowedForInstrument) {
  json qr = Wai();
  qr["author"] = testing::ByIdentifier(kTherapistSystem, "th-05");
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.author"),
            "a therapist may not fill in questionnaire wai-sr");
}

TEST(FeedbackFromQuestionnaireResponseTest, NotJsonOrNotAnObject) {
  ExpectIssue(FeedbackFromQuestionnaireResponse("{not json", Registry()), "QuestionnaireResponse");
  ExpectIssue(FeedbackFromQuestionnaireResponse("", Registry()), "QuestionnaireResponse");
  ExpectIssue(FeedbackFromQuestionnaireResponse("[1,2]", Registry()), "QuestionnaireResponse");
  ExpectIssue(FeedbackFromQuestionnaireResponse("\"QuestionnaireResponse\"", Registry()),
              "QuestionnaireResponse");
  ExpectIssue(FeedbackFromQuestionnaireResponse(
                  std::string(kMaxQuestionnaireResponseBytes + 1, ' '), Registry()),
              "QuestionnaireResponse");
}

TEST(FeedbackFromQuestionnaireResponseTest, DeepNestingIsRefusedWithoutCrashing) {
  std::string deep(100000, '[');
  ExpectIssue(FeedbackFromQuestionnaireResponse(deep, Registry()), "QuestionnaireResponse");
  json qr = Wai();
  qr.erase("item");
  std::string text = qr.dump();
  text.insert(text.size() - 1, ",\"item\":" + std::string(50000, '[') + std::string(50000, ']'));
  ExpectIssue(FeedbackFromQuestionnaireResponse(text, Registry()), "QuestionnaireResponse.item[0]");
}

TEST(FeedbackFromQuestionnaireResponseTest, ResourceType) {
  json qr = Wai();
  qr["resourceType"] = "Observation";
  ExpectIssue(Parse(qr), "QuestionnaireResponse.resourceType");
  qr.erase("resourceType");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.resourceType");
}

TEST(FeedbackFromQuestionnaireResponseTest, UnknownAndModifierElements) {
  json qr = Wai();
  qr["foo"] = 1;
  ExpectIssue(Parse(qr), "QuestionnaireResponse.foo");
  qr = Wai();
  qr["modifierExtension"] = json::array();
  ExpectIssue(Parse(qr), "QuestionnaireResponse.modifierExtension");
  qr = Wai();
  qr["item"][0]["item"][1]["modifierExtension"] = json::array();
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[0].item[1].modifierExtension");
  // Elements FHIR lets a reader ignore are accepted.
  qr = Wai();
  qr["id"] = "abc";
  qr["meta"] = {{"versionId", "1"}};
  qr["extension"].push_back({{"url", "https://example.org/other"}, {"valueString", "x"}});
  EXPECT_TRUE(Parse(qr).ok());
}

TEST(FeedbackFromQuestionnaireResponseTest, StatusMustBeCompleted) {
  json qr = Wai();
  qr["status"] = "in-progress";
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.status"),
            "must be \"completed\"; got \"in-progress\"");
  qr.erase("status");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.status");
  qr["status"] = 3;
  ExpectIssue(Parse(qr), "QuestionnaireResponse.status");
}

TEST(FeedbackFromQuestionnaireResponseTest, Questionnaire) {
  json qr = Wai();
  qr["questionnaire"] = "https://alliance.health/fhir/Questionnaire/phq-9";
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.questionnaire"),
            "unknown questionnaire \"phq-9\"");
  qr["questionnaire"] = "https://example.org/Questionnaire/wai-sr";
  ExpectIssue(Parse(qr), "QuestionnaireResponse.questionnaire");
  qr["questionnaire"] = QuestionnaireUrl("wai-sr") + "|000000000000";
  std::string why = ExpectIssue(Parse(qr), "QuestionnaireResponse.questionnaire");
  EXPECT_NE(why.find("is not the current one"), std::string::npos) << why;
  qr.erase("questionnaire");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.questionnaire");
}

TEST(FeedbackFromQuestionnaireResponseTest, Identifier) {
  json qr = Wai();
  qr.erase("identifier");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.identifier");
  qr = Wai();
  qr["identifier"]["system"] = "https://example.org/ids";
  ExpectIssue(Parse(qr), "QuestionnaireResponse.identifier.system");
  qr = Wai();
  qr["identifier"]["value"] = "has space";
  ExpectIssue(Parse(qr), "QuestionnaireResponse.identifier.value");
  qr["identifier"]["value"] = std::string(129, 'a');
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.identifier.value"),
            "is 129 characters long; at most 128 are allowed");
  qr["identifier"]["value"] = 12;
  ExpectIssue(Parse(qr), "QuestionnaireResponse.identifier.value");
  qr["identifier"] = json::array({{{"system", kSubmissionSystem}, {"value", "a"}}});
  ExpectIssue(Parse(qr), "QuestionnaireResponse.identifier");
}

TEST(FeedbackFromQuestionnaireResponseTest, Subject) {
  json qr = Wai();
  qr.erase("subject");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.subject");
  qr["subject"] = {{"reference", "Patient/123"}};
  ExpectIssue(Parse(qr), "QuestionnaireResponse.subject.identifier");
  qr["subject"] = testing::ByIdentifier(kTherapistSystem, "cl-0042");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.subject.identifier.system");
  qr["subject"] = testing::ByIdentifier(kClientSystem, "cl/0042");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.subject.identifier.value");
  qr["subject"] = testing::ByIdentifier(kClientSystem, "cl-0042");
  qr["subject"]["type"] = "Group";
  ExpectIssue(Parse(qr), "QuestionnaireResponse.subject.type");
  qr["subject"] = "cl-0042";
  ExpectIssue(Parse(qr), "QuestionnaireResponse.subject");
}

TEST(FeedbackFromQuestionnaireResponseTest, EncounterAndAuthor) {
  json qr = Wai();
  qr.erase("encounter");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.encounter");
  qr = Wai();
  qr["encounter"]["identifier"]["value"] = "";
  ExpectIssue(Parse(qr), "QuestionnaireResponse.encounter.identifier.value");
  qr = Wai();
  qr.erase("author");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.author");
  qr["author"] = testing::ByIdentifier(kSessionSystem, "cl-0042");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.author.identifier.system");
}

TEST(FeedbackFromQuestionnaireResponseTest, SessionNumberExtension) {
  json qr = Wai();
  size_t i = ExtIndex(qr, kSessionNumberExtension);
  qr["extension"][i]["valuePositiveInt"] = 0;
  ExpectIssue(Parse(qr), "QuestionnaireResponse.extension[0].valuePositiveInt");
  qr["extension"][i]["valuePositiveInt"] = 2.5;
  ExpectIssue(Parse(qr), "QuestionnaireResponse.extension[0].valuePositiveInt");
  qr["extension"][i]["valuePositiveInt"] = "7";
  ExpectIssue(Parse(qr), "QuestionnaireResponse.extension[0].valuePositiveInt");
  qr["extension"][i]["valuePositiveInt"] = 100001;
  ExpectIssue(Parse(qr), "QuestionnaireResponse.extension[0].valuePositiveInt");
  qr["extension"][i].erase("valuePositiveInt");
  qr["extension"][i]["valueInteger"] = 7;
  ExpectIssue(Parse(qr), "QuestionnaireResponse.extension[0].valuePositiveInt");
  qr = Wai();
  qr["extension"].erase(ExtIndex(qr, kSessionNumberExtension));
  ExpectIssue(Parse(qr), "QuestionnaireResponse.extension");
  qr = Wai();
  qr["extension"].push_back(qr["extension"][0]);
  ExpectIssue(Parse(qr), "QuestionnaireResponse.extension[2]");
}

TEST(FeedbackFromQuestionnaireResponseTest, AuthoredNeedsTimeAndZone) {
  json qr = Wai();
  for (const char* bad :
       {"2026-03-02", "2026-03", "2026-03-02T10:30:00", "2026-03-02T10:30Z", "2026-02-30T10:30:00Z",
        "2026-03-02T25:30:00Z", "yesterday", "2026-03-02T10:30:00+15:00", "1969-12-31T23:59:59Z"}) {
    qr["authored"] = bad;
    ExpectIssue(Parse(qr), "QuestionnaireResponse.authored");
  }
  qr["authored"] = "2026-03-02";
  EXPECT_NE(ExpectIssue(Parse(qr), "QuestionnaireResponse.authored").find("a date alone"),
            std::string::npos);
  qr["authored"] = 1772443800;
  ExpectIssue(Parse(qr), "QuestionnaireResponse.authored");
  qr.erase("authored");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.authored");
  qr["authored"] = "2026-03-02T09:30:00.250Z";
  absl::StatusOr<alliance::v1::Feedback> f = Parse(qr);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->session_time().seconds(), 1772443800);
  EXPECT_EQ(f->session_time().nanos(), 250000000);
  qr["authored"] = "2026-03-02T04:30:00-05:00";
  EXPECT_EQ(Parse(qr)->session_time().seconds(), 1772443800);
}

TEST(FeedbackFromQuestionnaireResponseTest, WrongValueTypes) {
  json qr = Wai();
  // Nested: item[1] is the bond group, its item[0] is item 3.
  qr["item"][1]["item"][0]["answer"][0]["valueInteger"] = "3";
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.item[1].item[0].answer[0].valueInteger"),
            "must be an integer");
  qr["item"][1]["item"][0]["answer"][0]["valueInteger"] = 3.5;
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[1].item[0].answer[0].valueInteger");
  qr["item"][1]["item"][0]["answer"][0] = {{"valueDecimal", 3}};
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.item[1].item[0].answer[0].valueDecimal"),
            "item 3 of questionnaire wai-sr takes valueInteger");
  qr["item"][1]["item"][0]["answer"][0] = {{"valueString", "3"}};
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[1].item[0].answer[0].valueString");
  qr["item"][1]["item"][0]["answer"][0] = json::object();
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[1].item[0].answer[0].valueInteger");
  qr["item"][1]["item"][0]["answer"][0] = 3;
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[1].item[0].answer[0]");
  qr["item"][1]["item"][0]["answer"] = {{"valueInteger", 3}};
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[1].item[0].answer");
  qr = Wai();
  qr["item"] = {{"linkId", "1"}};
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item");
  qr["item"] = json::array({"1"});
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[0]");
  qr["item"] = json::array({{{"linkId", 1}}});
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[0].linkId");

  json srs = Srs();
  srs["item"][0]["item"][0]["answer"][0] = {{"valueInteger", 9}};
  EXPECT_EQ(ExpectIssue(Parse(srs), "QuestionnaireResponse.item[0].item[0].answer[0].valueInteger"),
            "item 1 of questionnaire srs takes valueDecimal");
  srs["item"][0]["item"][0]["answer"][0] = {{"valueDecimal", "9.0"}};
  ExpectIssue(Parse(srs), "QuestionnaireResponse.item[0].item[0].answer[0].valueDecimal");
  srs["item"][0]["item"][0]["answer"][0] = {{"valueDecimal", 9}};  // a whole decimal is fine
  EXPECT_TRUE(Parse(srs).ok());
}

TEST(FeedbackFromQuestionnaireResponseTest, AnswersOffTheScaleOrStep) {
  json qr = Wai();
  qr["item"][1]["item"][0]["answer"][0]["valueInteger"] = 7;
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.item[1].item[0].answer[0].valueInteger"),
            "7 is outside 1..5 for item 3");
  qr["item"][1]["item"][0]["answer"][0]["valueInteger"] = 0;
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[1].item[0].answer[0].valueInteger");
  json srs = Srs();
  srs["item"][2]["item"][0]["answer"][0]["valueDecimal"] = 9.15;
  EXPECT_EQ(ExpectIssue(Parse(srs), "QuestionnaireResponse.item[2].item[0].answer[0].valueDecimal"),
            "9.15 is not on the scale's step of 0.1 for item 3");
  srs["item"][2]["item"][0]["answer"][0]["valueDecimal"] = 10.1;
  ExpectIssue(Parse(srs), "QuestionnaireResponse.item[2].item[0].answer[0].valueDecimal");
  srs["item"][2]["item"][0]["answer"][0]["valueDecimal"] = -0.1;
  ExpectIssue(Parse(srs), "QuestionnaireResponse.item[2].item[0].answer[0].valueDecimal");
}

TEST(FeedbackFromQuestionnaireResponseTest, MissingDuplicateAndUnknownItems) {
  json qr = Wai(/*nested=*/false);
  qr["item"].erase(4);  // item 5
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.item"),
            "item 5 of questionnaire wai-sr is missing");
  qr = Wai(false);
  qr["item"].push_back(qr["item"][2]);
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.item[12].linkId"),
            "item 3 is answered twice");
  qr = Wai(false);
  qr["item"][11]["linkId"] = "13";
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[11].linkId");
  qr["item"][11]["linkId"] = "012";
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[11].linkId");
  qr["item"][11]["linkId"] = "subscale-bond";  // a group with an answer
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.item[11].answer"),
            "a group item has no answers");
  qr["item"][11].erase("answer");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[11].item");
  qr = Wai(false);
  qr["item"][0]["answer"].push_back({{"valueInteger", 2}});
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.item[0].answer"),
            "must hold exactly one answer; it holds 2");
  qr["item"][0]["answer"] = json::array();
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[0].answer");
  qr["item"][0].erase("answer");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[0].answer");
  qr = Wai(false);
  qr["item"] = json::array();
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item");
  qr.erase("item");
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item");
}

TEST(FeedbackFromQuestionnaireResponseTest, NestingFollowsTheQuestionnaire) {
  json qr = Wai();
  // Item 3 (bond) moved into the task group.
  qr["item"][0]["item"].push_back(qr["item"][1]["item"][0]);
  qr["item"][1]["item"].erase(0);
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.item[0].item[4].linkId"),
            "item 3 is not in this group");
  qr = Wai();
  qr["item"].push_back(qr["item"][2]);
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[3].linkId");  // group twice
  qr = Wai();
  qr["item"][0]["answer"] = json::array({{{"valueInteger", 1}}});
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[0].answer");
  qr = Wai();
  qr["item"][0]["item"][0]["item"] = json::array();
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[0].item[0].item");
  // A mixed response: one group nested, the other items flat.
  qr = Wai();
  json flat = Wai(false);
  json mixed = json::array({qr["item"][0]});
  for (int item : {3, 4, 5, 6, 7, 8, 9, 11}) mixed.push_back(flat["item"][item - 1]);
  qr["item"] = mixed;
  EXPECT_TRUE(Parse(qr).ok()) << Parse(qr).status();
  // Instruments without groups refuse a group.
  json sai = MakeResponse(QuestionnaireOf("sai"), "client", [](int) { return 4; });
  sai["item"].push_back({{"linkId", "subscale-bond"}, {"item", json::array()}});
  ExpectIssue(Parse(sai), "QuestionnaireResponse.item[6].linkId");
}

TEST(FeedbackFromQuestionnaireResponseTest, HugeArraysRefused) {
  json qr = Wai(false);
  json items = json::array();
  for (int i = 0; i < 501; ++i) items.push_back({{"linkId", "1"}});
  qr["item"] = items;
  EXPECT_EQ(ExpectIssue(Parse(qr), "QuestionnaireResponse.item"),
            "has 501 entries; at most 500 are accepted");
  qr = Wai(false);
  qr["item"][0]["answer"] = json::array();
  for (int i = 0; i < 2000; ++i) qr["item"][0]["answer"].push_back({{"valueInteger", 1}});
  ExpectIssue(Parse(qr), "QuestionnaireResponse.item[0].answer");
  qr = Wai(false);
  for (int i = 0; i < 600; ++i) qr["extension"].push_back({{"url", "https://example.org/x"}});
  ExpectIssue(Parse(qr), "QuestionnaireResponse.extension");
}

TEST(FeedbackFromQuestionnaireResponseTest, RoundTripPerBuiltInInstrument) {
  for (const std::string& id : Registry().Ids()) {
    const analytics::Instrument& ins = *Registry().Find(id);
    json questionnaire = QuestionnaireOf(id);
    std::string rater = ins.AllowsRater(analytics::Rater::kClient) ? "client" : "therapist";
    // Item i answered on the scale: min + ((i * 3) mod steps) * step.
    int steps = static_cast<int>(std::lround((ins.item_max - ins.item_min) / ins.step));
    auto answer = [&](int i) { return ins.item_min + ((i * 3) % (steps + 1)) * ins.step; };
    for (bool nested : {true, false}) {
      json qr = MakeResponse(questionnaire, rater, answer, nested);
      absl::StatusOr<alliance::v1::Feedback> f = Parse(qr);
      ASSERT_TRUE(f.ok()) << id << ": " << f.status();
      EXPECT_EQ(f->instrument_id(), id);
      ASSERT_EQ(f->answers_size(), ins.item_count) << id;
      for (int i = 1; i <= ins.item_count; ++i) {
        EXPECT_EQ(f->answers(i - 1).item(), i) << id;
        EXPECT_NEAR(f->answers(i - 1).value(), answer(i), 1e-9) << id << " item " << i;
      }
    }
  }
}

TEST(IssueFromStatusTest, SplitsFhirPathOnly) {
  Issue with = IssueFromStatus(absl::InvalidArgumentError(
      "QuestionnaireResponse.item[2].answer[0].valueInteger: 7 is outside 1..5 for item 3"));
  EXPECT_EQ(with.expression, "QuestionnaireResponse.item[2].answer[0].valueInteger");
  EXPECT_EQ(with.message, "7 is outside 1..5 for item 3");
  Issue native = IssueFromStatus(absl::InvalidArgumentError("answers[2].value: 7 is outside"));
  EXPECT_EQ(native.expression, "");
  EXPECT_EQ(native.message, "answers[2].value: 7 is outside");
  Issue prose = IssueFromStatus(absl::UnavailableError("Redis is down: try later"));
  EXPECT_EQ(prose.expression, "");
  EXPECT_EQ(IssueFromStatus(absl::OkStatus()).expression, "");
}

TEST(OperationOutcomeTest, MapsCodeDiagnosticsAndExpression) {
  json oo = json::parse(OperationOutcomeJson(
      absl::InvalidArgumentError("QuestionnaireResponse.status: must be \"completed\"")));
  EXPECT_EQ(oo["resourceType"], "OperationOutcome");
  ASSERT_EQ(oo["issue"].size(), 1u);
  EXPECT_EQ(oo["issue"][0]["severity"], "error");
  EXPECT_EQ(oo["issue"][0]["code"], "invalid");
  EXPECT_EQ(oo["issue"][0]["diagnostics"], "QuestionnaireResponse.status: must be \"completed\"");
  EXPECT_EQ(oo["issue"][0]["expression"], json::array({"QuestionnaireResponse.status"}));

  const std::pair<absl::Status, const char*> cases[] = {
      {absl::UnauthenticatedError("no key"), "login"},
      {absl::PermissionDeniedError("scope"), "forbidden"},
      {absl::NotFoundError("x"), "not-found"},
      {absl::AlreadyExistsError("x"), "duplicate"},
      {absl::ResourceExhaustedError("x"), "throttled"},
      {absl::UnavailableError("x"), "transient"},
      {absl::DeadlineExceededError("x"), "timeout"},
      {absl::FailedPreconditionError("x"), "business-rule"},
      {absl::UnimplementedError("x"), "not-supported"},
      {absl::InternalError("x"), "exception"},
  };
  for (const auto& [status, code] : cases) {
    json o = json::parse(OperationOutcomeJson(status));
    EXPECT_EQ(o["issue"][0]["code"], code) << status;
    EXPECT_EQ(o["issue"][0]["severity"], "error");
    EXPECT_FALSE(o["issue"][0].contains("expression"));
  }
  json empty = json::parse(OperationOutcomeJson(absl::UnavailableError("")));
  EXPECT_EQ(empty["issue"][0]["diagnostics"], "UNAVAILABLE");
  json ok = json::parse(OperationOutcomeJson(absl::OkStatus()));
  EXPECT_EQ(ok["issue"][0]["severity"], "information");
  EXPECT_EQ(ok["issue"][0]["code"], "informational");
}

}  // namespace
}  // namespace alliance::fhir
