// FHIR round trip, end to end: QuestionnaireResponses of every built-in instrument posted to
// intake's HTTP port come back from insights as the dyad's Observation Bundle (one Observation
// per response, its total and subscales as scored, derived from the response's identifier), and
// the export is a transaction of conditional creates. Every resource sent and received is
// checked by the independent FHIR validator (tests/fhir/). Runs on one Redis and on a Redis
// Cluster (the PipelineTest instantiation in pipeline_test.cc).
#include <span>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "analytics/registry.h"
#include "analytics/scoring.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/pipeline_fixture.h"
#include "tests/support/fhir_files.h"
#include "tests/support/questionnaire_responses.h"

namespace alliance::testing {
namespace {

struct Form {
  std::string instrument;
  std::string rater;
};

// Answers of session `s`, within the instrument's range and on its step.
std::vector<double> AnswersFor(const analytics::Instrument& instrument, int s) {
  std::vector<double> answers;
  const int span = static_cast<int>((instrument.item_max - instrument.item_min) / instrument.step);
  for (int item = 1; item <= instrument.item_count; ++item) {
    answers.push_back(instrument.item_min + ((item * 7 + s * 3) % (span + 1)) * instrument.step);
  }
  return answers;
}

TEST_P(PipelineTest, QuestionnaireResponsesComeBackAsObservationsOfEachInstrument) {
  const analytics::InstrumentRegistry& registry = analytics::InstrumentRegistry::BuiltIn();
  const std::vector<Form> forms = {{"srs", "client"},
                                   {"wai-sr", "client"},
                                   {"wai-sr-t", "therapist"},
                                   {"haq-ii", "client"},
                                   {"sai", "client"}};
  constexpr int kSessions = 3;
  httplib::Client intake("127.0.0.1", intake_http_port_);
  httplib::Client insights("127.0.0.1", insights_http_port_);
  intake.set_read_timeout(20, 0);
  insights.set_read_timeout(20, 0);
  FhirFiles files("e2e-round-trip");
  for (const Form& form : forms) {
    SCOPED_TRACE(form.instrument);
    const analytics::Instrument* instrument = registry.Find(form.instrument);
    ASSERT_NE(instrument, nullptr);
    const std::string client = "cl-" + form.instrument;
    std::vector<double> totals;
    for (int s = 1; s <= kSessions; ++s) {
      QuestionnaireResponseSpec spec;
      spec.identifier = absl::StrCat("qr-", form.instrument, "-", s);
      spec.instrument_id = form.instrument;
      spec.therapist_id = "th-f";
      spec.client_id = client;
      spec.rater = form.rater;
      spec.session_number = s;
      spec.authored = absl::Now() - absl::Hours(24 * 7 * (kSessions + 1 - s));
      spec.answers = AnswersFor(*instrument, s);
      spec.decimal = instrument->step != 1;
      absl::StatusOr<analytics::Score> score = analytics::ScoreAnswers(
          *instrument, std::span<const double>(spec.answers.data(), spec.answers.size()));
      ASSERT_TRUE(score.ok()) << score.status();
      totals.push_back(score->total);
      const std::string body = QuestionnaireResponseJson(spec);
      files.Add(spec.identifier, body);
      httplib::Result posted =
          intake.Post("/fhir/QuestionnaireResponse?tenant=clinic-f", body, "application/fhir+json");
      ASSERT_TRUE(posted) << httplib::to_string(posted.error());
      ASSERT_EQ(posted->status, 201) << posted->body;
    }
    ASSERT_TRUE(WaitForDyad("clinic-f", "th-f", client, kSessions).ok());

    const std::string path = absl::StrCat("/fhir/dyads/th-f/", client, "?tenant=clinic-f");
    httplib::Result got = insights.Get(path.c_str());
    ASSERT_TRUE(got) << httplib::to_string(got.error());
    ASSERT_EQ(got->status, 200) << got->body;
    files.Add("bundle-" + form.instrument, got->body);
    nlohmann::json bundle = nlohmann::json::parse(got->body);
    std::vector<nlohmann::json> observations;
    for (const nlohmann::json& entry : bundle["entry"]) {
      if (entry["resource"]["resourceType"] == "Observation") {
        observations.push_back(entry["resource"]);
      }
    }
    ASSERT_EQ(observations.size(), static_cast<size_t>(kSessions));
    for (int s = 1; s <= kSessions; ++s) {
      const nlohmann::json& o = observations[static_cast<size_t>(s - 1)];
      EXPECT_DOUBLE_EQ(o["valueQuantity"]["value"].get<double>(), totals[s - 1]);
      EXPECT_EQ(o["derivedFrom"][0]["identifier"]["value"],
                absl::StrCat("qr-", form.instrument, "-", s));
      EXPECT_EQ(o["subject"]["identifier"]["value"], client);
      const size_t components = o.contains("component") ? o.at("component").size() : 0;
      EXPECT_EQ(components, instrument->subscales.size());
    }
    const std::string export_path =
        absl::StrCat("/fhir/dyads/th-f/", client, "/$export?tenant=clinic-f");
    httplib::Result exported = insights.Get(export_path.c_str());
    ASSERT_TRUE(exported);
    ASSERT_EQ(exported->status, 200) << exported->body;
    files.Add("export-" + form.instrument, exported->body);
  }
  // The independent validator over everything sent and received.
  absl::Status valid = files.Validate();
  EXPECT_TRUE(valid.ok()) << valid;
}

}  // namespace
}  // namespace alliance::testing
