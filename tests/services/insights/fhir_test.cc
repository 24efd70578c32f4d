// The FHIR routes of the real alliance-insights on its HTTP port, against a real redis-server
// seeded the way the worker writes: Questionnaires and the CodeSystem, a dyad's Observations
// and Flags as a searchset and as a transaction, the same Bundle over gRPC, and the tenant and
// key rules of the gRPC API.
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/services/insights/insights_fixture.h"
#include "tests/support/api_keys.h"

namespace alliance::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Got {
  int status = 0;
  nlohmann::json json;
  std::string body;
};

// A dyad with three SRS ratings by the client and a rupture at session 3 still open.
alliance::internal::v1::DyadRecord DyadWithOpenRupture(const InsightsFixture& f,
                                                       const std::string& tenant,
                                                       const std::string& client) {
  (void)f;
  alliance::internal::v1::DyadRecord record;
  record.set_version(1);
  record.set_tenant_id(tenant);
  record.set_therapist_id("t-1");
  record.set_client_id(client);
  const std::vector<std::vector<double>> answers = {{9, 9, 9, 9}, {9, 8, 9, 9}, {5, 4, 6, 5}};
  for (int s = 1; s <= 3; ++s) {
    auto* r = record.add_ratings();
    r->set_rating_id(absl::StrCat("r", s));
    r->set_session_number(s);
    r->mutable_session_time()->set_seconds(1764547200 + s * 604800);  // weekly from 2025-12-01
    r->set_rater(alliance::v1::RATER_CLIENT);
    r->set_instrument_id("srs");
    r->set_session_id(absl::StrCat("s-", s));
    r->set_idempotency_id(absl::StrCat("qr-", s));
    for (double a : answers[s - 1]) r->add_answers(a);
  }
  alliance::v1::Dyad* d = record.mutable_picture();
  d->set_tenant_id(tenant);
  d->set_therapist_id("t-1");
  d->set_client_id(client);
  alliance::v1::SeriesPicture* series = d->add_series();
  series->set_rater(alliance::v1::RATER_CLIENT);
  series->set_instrument_id("srs");
  series->set_session_count(3);
  series->mutable_open_rupture()->set_episode_id("alert-rupture-3");
  series->mutable_open_rupture()->set_onset_session(3);
  d->set_open_ruptures(1);
  alliance::v1::Alert* rupture = record.add_alerts();
  rupture->set_alert_id("alert-rupture-3");
  rupture->set_episode_id("alert-rupture-3");
  rupture->set_tenant_id(tenant);
  rupture->set_therapist_id("t-1");
  rupture->set_client_id(client);
  rupture->set_rater(alliance::v1::RATER_CLIENT);
  rupture->set_instrument_id("srs");
  rupture->set_kind(alliance::v1::ALERT_KIND_RUPTURE);
  rupture->set_reason(alliance::v1::REASON_RELIABLE_DROP);
  rupture->set_severity(alliance::v1::SEVERITY_HIGH);
  rupture->set_session_number(3);
  rupture->mutable_session_time()->set_seconds(1764547200 + 3 * 604800);
  // An earlier episode, repaired: no Flag for it.
  alliance::v1::Alert* old = record.add_alerts();
  *old = *rupture;
  old->set_alert_id("alert-rupture-old");
  old->set_episode_id("alert-rupture-old");
  old->set_session_number(2);
  return record;
}

class FhirRoutesTest : public InsightsFixture {
 protected:
  Got Get(const std::string& path, const std::string& key = "") const {
    httplib::Client client("127.0.0.1", http_port_);
    client.set_read_timeout(20, 0);
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("X-Api-Key", key);
    httplib::Result result = client.Get(path.c_str(), headers);
    Got got;
    if (!result) {
      ADD_FAILURE() << "no HTTP response for " << path;
      return got;
    }
    got.status = result->status;
    got.body = result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/fhir+json");
    EXPECT_EQ(result->get_header_value("Cache-Control"), "no-store");
    got.json = nlohmann::json::parse(result->body, nullptr, false);
    EXPECT_TRUE(got.json.is_object()) << result->body;
    return got;
  }
};

std::vector<nlohmann::json> Resources(const nlohmann::json& bundle, const std::string& type) {
  std::vector<nlohmann::json> out;
  for (const nlohmann::json& entry : bundle["entry"]) {
    if (entry["resource"]["resourceType"] == type) out.push_back(entry["resource"]);
  }
  return out;
}

TEST_F(FhirRoutesTest, QuestionnairesAndTheCodeSystemAreServed) {
  Got srs = Get("/fhir/Questionnaire/srs");
  EXPECT_EQ(srs.status, 200);
  EXPECT_EQ(srs.json["resourceType"], "Questionnaire");
  EXPECT_EQ(srs.json["url"], "https://alliance.health/fhir/Questionnaire/srs");
  EXPECT_FALSE(srs.json.value("version", "").empty());
  Got all = Get("/fhir/Questionnaire");
  EXPECT_EQ(all.json["resourceType"], "Bundle");
  EXPECT_EQ(Resources(all.json, "Questionnaire").size(), 5u);
  Got unknown = Get("/fhir/Questionnaire/nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json["resourceType"], "OperationOutcome");
  EXPECT_EQ(Get("/fhir/Questionnaire/b@d").status, 400);
  Got metadata = Get("/fhir/metadata");
  EXPECT_EQ(metadata.status, 200);
  EXPECT_EQ(metadata.json["resourceType"], "CapabilityStatement");
  EXPECT_EQ(metadata.json["fhirVersion"], "4.0.1");
  Got codes = Get("/fhir/CodeSystem/alliance");
  EXPECT_EQ(codes.json["resourceType"], "CodeSystem");
  EXPECT_EQ(codes.json["url"], "https://alliance.health/fhir/CodeSystem/alliance");
}

TEST_F(FhirRoutesTest, ADyadIsItsObservationsAndAFlagPerOpenRupture) {
  WriteDyad(DyadWithOpenRupture(*this, "clinic-a", "c-1"));
  Got got = Get("/fhir/dyads/t-1/c-1?tenant=clinic-a");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json["type"], "searchset");
  std::vector<nlohmann::json> observations = Resources(got.json, "Observation");
  ASSERT_EQ(observations.size(), 3u);
  // SRS totals are the sums of the four lines.
  EXPECT_DOUBLE_EQ(observations[0]["valueQuantity"]["value"].get<double>(), 36);
  EXPECT_DOUBLE_EQ(observations[1]["valueQuantity"]["value"].get<double>(), 35);
  EXPECT_DOUBLE_EQ(observations[2]["valueQuantity"]["value"].get<double>(), 20);
  EXPECT_EQ(observations[2]["component"].size(), 4u);
  EXPECT_EQ(observations[2]["subject"]["identifier"]["value"], "c-1");
  EXPECT_EQ(observations[2]["derivedFrom"][0]["identifier"]["value"], "qr-3");
  std::vector<nlohmann::json> flags = Resources(got.json, "Flag");
  ASSERT_EQ(flags.size(), 1u);
  EXPECT_EQ(flags[0]["status"], "active");
  EXPECT_EQ(flags[0]["identifier"][0]["value"], "alert-rupture-3");
  EXPECT_THAT(flags[0].dump(), HasSubstr("flag-detail"));
}

TEST_F(FhirRoutesTest, TheExportIsConditionalCreatesWithTheSameIdentifiersEachTime) {
  WriteDyad(DyadWithOpenRupture(*this, "clinic-a", "c-1"));
  Got first = Get("/fhir/dyads/t-1/c-1/$export?tenant=clinic-a");
  Got second = Get("/fhir/dyads/t-1/c-1/$export?tenant=clinic-a");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json["type"], "transaction");
  std::set<std::string> conditions;
  for (const nlohmann::json& entry : first.json["entry"]) {
    EXPECT_EQ(entry["request"]["method"], "POST");
    const std::string condition = entry["request"].value("ifNoneExist", "");
    EXPECT_THAT(condition, HasSubstr("identifier="));
    conditions.insert(condition);
  }
  EXPECT_EQ(conditions.size(), 4u);  // three Observations and one Flag, each its own
  ASSERT_EQ(second.json["entry"].size(), first.json["entry"].size());
  for (size_t i = 0; i < first.json["entry"].size(); ++i) {
    EXPECT_EQ(second.json["entry"][i]["request"], first.json["entry"][i]["request"]);
    EXPECT_EQ(second.json["entry"][i]["fullUrl"], first.json["entry"][i]["fullUrl"]);
  }
}

TEST_F(FhirRoutesTest, TheGrpcMethodReturnsTheSameBundle) {
  WriteDyad(DyadWithOpenRupture(*this, "clinic-a", "c-1"));
  alliance::v1::GetDyadFhirBundleRequest request;
  request.set_tenant_id("clinic-a");
  request.set_therapist_id("t-1");
  request.set_client_id("c-1");
  request.set_type(alliance::v1::FHIR_BUNDLE_TYPE_TRANSACTION);
  alliance::v1::FhirResource resource;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  grpc::Status status = NewStub()->GetDyadFhirBundle(&context, request, &resource);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resource.resource_type(), "Bundle");
  nlohmann::json grpc_bundle = nlohmann::json::parse(resource.json());
  Got http_bundle = Get("/fhir/dyads/t-1/c-1/$export?tenant=clinic-a");
  EXPECT_EQ(grpc_bundle["entry"], http_bundle.json["entry"]);

  alliance::v1::GetFhirQuestionnaireRequest q;
  q.set_instrument_id("wai-sr");
  grpc::ClientContext q_context;
  q_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  ASSERT_TRUE(NewStub()->GetFhirQuestionnaire(&q_context, q, &resource).ok());
  EXPECT_EQ(resource.resource_type(), "Questionnaire");
  EXPECT_EQ(nlohmann::json::parse(resource.json()), Get("/fhir/Questionnaire/wai-sr").json);
}

class FhirRoutesWithKeysTest : public FhirRoutesTest {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    const std::string keys = absl::StrCat(::testing::TempDir(), "/fhir-keys-", getpid(), ".json");
    EXPECT_TRUE(WriteApiKeyFile(keys, {{"a-reader", "key-a", "clinic-a", {"read"}},
                                       {"b-reader", "key-b", "clinic-b", {"read"}},
                                       {"a-submit", "key-a-submit", "clinic-a", {"submit"}}})
                    .ok());
    return {absl::StrCat("--api_keys_file=", keys)};
  }
};

TEST_F(FhirRoutesWithKeysTest, AnotherTenantsDyadShowsNothingOfIt) {
  WriteDyad(DyadWithOpenRupture(*this, "clinic-a", "c-1"));
  EXPECT_EQ(Get("/fhir/dyads/t-1/c-1", "key-a").status, 200);
  // The other tenant's key: its own tenant has no such dyad; naming clinic-a is refused.
  Got mine = Get("/fhir/dyads/t-1/c-1", "key-b");
  EXPECT_EQ(mine.status, 404);
  EXPECT_THAT(mine.body, Not(HasSubstr("srs")));
  EXPECT_EQ(Get("/fhir/dyads/t-1/c-1?tenant=clinic-a", "key-b").status, 403);
  EXPECT_EQ(Get("/fhir/dyads/t-1/c-1/$export?tenant=clinic-a", "key-b").status, 403);
  // No key, an unknown key, a key without the read scope.
  EXPECT_EQ(Get("/fhir/dyads/t-1/c-1").status, 401);
  EXPECT_EQ(Get("/fhir/dyads/t-1/c-1", "nope").status, 401);
  EXPECT_EQ(Get("/fhir/dyads/t-1/c-1", "key-a-submit").status, 403);
  EXPECT_EQ(Get("/fhir/Questionnaire/srs").status, 401);
  EXPECT_EQ(Get("/fhir/Questionnaire/srs", "key-b").status, 200);
}

}  // namespace
}  // namespace alliance::testing
