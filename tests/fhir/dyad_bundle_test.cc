// Observations and Flags of a dyad (common/fhir/dyad_bundle.h): the searchset and transaction
// Bundles of the sample dyad, element by element; identifiers stable and conditional creates.
#include "common/fhir/dyad_bundle.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "analytics/registry.h"
#include "nlohmann/json.hpp"
#include "tests/fhir/sample_dyad.h"

namespace alliance::fhir {
namespace {

using nlohmann::json;

const analytics::InstrumentRegistry& Registry() { return analytics::InstrumentRegistry::BuiltIn(); }

json Searchset() { return json::parse(DyadBundleJson(testing::SampleDyad(), Registry())); }
json Transaction() { return json::parse(DyadTransactionJson(testing::SampleDyad(), Registry())); }

std::vector<json> OfType(const json& bundle, std::string_view type) {
  std::vector<json> out;
  for (const json& e : bundle["entry"]) {
    if (e["resource"]["resourceType"] == type) out.push_back(e);
  }
  return out;
}

TEST(DyadBundleTest, OneObservationPerPointAndOneFlagPerOpenAlert) {
  json b = Searchset();
  EXPECT_EQ(b["resourceType"], "Bundle");
  EXPECT_EQ(b["type"], "searchset");
  EXPECT_EQ(b["total"], 15);
  EXPECT_EQ(OfType(b, "Observation").size(), 12u);
  EXPECT_EQ(OfType(b, "Flag").size(), 3u);
}

TEST(DyadBundleTest, ObservationElements) {
  json o = OfType(Searchset(), "Observation")[6]["resource"];  // session 4, client, WAI-SR
  EXPECT_EQ(o["status"], "final");
  EXPECT_EQ(o["category"][0]["coding"][0]["system"],
            "http://terminology.hl7.org/CodeSystem/observation-category");
  EXPECT_EQ(o["category"][0]["coding"][0]["code"], "survey");
  EXPECT_EQ(o["code"]["coding"][0]["system"], kCodeSystemUrl);
  EXPECT_EQ(o["code"]["coding"][0]["code"], "wai-sr.total");
  EXPECT_EQ(o["subject"]["identifier"]["system"], kClientSystem);
  EXPECT_EQ(o["subject"]["identifier"]["value"], "cl-0042");
  EXPECT_EQ(o["performer"][0]["type"], "Patient");
  EXPECT_EQ(o["performer"][0]["identifier"]["value"], "cl-0042");
  // Session 4 is three weeks after 2026-03-02T09:30:00Z.
  EXPECT_EQ(o["effectiveDateTime"], "2026-03-23T09:30:00Z");
  EXPECT_EQ(o["valueQuantity"]["value"], 36.0);
  EXPECT_EQ(o["valueQuantity"]["system"], "http://unitsofmeasure.org");
  EXPECT_EQ(o["valueQuantity"]["code"], "{score}");
  ASSERT_EQ(o["component"].size(), 3u);
  EXPECT_EQ(o["component"][1]["code"]["coding"][0]["code"], "wai-sr.bond");
  EXPECT_EQ(o["component"][1]["valueQuantity"]["value"], 11.0);
  EXPECT_EQ(o["extension"][0]["url"], kSessionNumberExtension);
  EXPECT_EQ(o["extension"][0]["valuePositiveInt"], 4);
  EXPECT_EQ(o["extension"][1]["url"], kRaterExtension);
  EXPECT_EQ(o["extension"][1]["valueCode"], "client");
  EXPECT_EQ(o["encounter"]["type"], "Encounter");
  EXPECT_EQ(o["encounter"]["identifier"]["system"], kSessionSystem);
  EXPECT_EQ(o["encounter"]["identifier"]["value"], "sess-4");
  ASSERT_EQ(o["derivedFrom"].size(), 1u);
  EXPECT_EQ(o["derivedFrom"][0]["type"], "QuestionnaireResponse");
  EXPECT_EQ(o["derivedFrom"][0]["identifier"]["system"], kSubmissionSystem);
  EXPECT_EQ(o["derivedFrom"][0]["identifier"]["value"], "c-2026-4");
  EXPECT_EQ(o["identifier"][0]["system"], kObservationSystem);
  EXPECT_EQ(
      o["identifier"][0]["value"],
      ObservationIdentifierValue(testing::SampleDyad(), testing::SampleDyad().timeline.points(6)));
  // The therapist's point names the therapist as performer.
  json t = OfType(Searchset(), "Observation")[7]["resource"];
  EXPECT_EQ(t["performer"][0]["type"], "Practitioner");
  EXPECT_EQ(t["performer"][0]["identifier"]["system"], kTherapistSystem);
  EXPECT_EQ(t["performer"][0]["identifier"]["value"], "th-05");
  EXPECT_EQ(t["code"]["coding"][0]["code"], "wai-sr-t.total");
}

TEST(DyadBundleTest, ObservationIdentifierIsStableAndDistinct) {
  DyadFhirInput a = testing::SampleDyad();
  const alliance::v1::TimelinePoint& p = a.timeline.points(0);
  std::string id = ObservationIdentifierValue(a, p);
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}")));
  EXPECT_EQ(id, ObservationIdentifierValue(testing::SampleDyad(), p));
  DyadFhirInput other_tenant = a;
  other_tenant.tenant_id = "clinic-south";
  EXPECT_NE(ObservationIdentifierValue(other_tenant, p), id);
  alliance::v1::TimelinePoint changed_score = p;
  changed_score.set_total(20);
  EXPECT_EQ(ObservationIdentifierValue(a, changed_score), id) << "identity, not content";
  EXPECT_NE(ObservationIdentifierValue(a, p, 1), id);
  std::set<std::string> all;
  for (const auto& point : a.timeline.points()) all.insert(ObservationIdentifierValue(a, point));
  EXPECT_EQ(all.size(), 12u);
  // The whole output is byte-for-byte the same on every call.
  EXPECT_EQ(DyadBundleJson(a, Registry()), DyadBundleJson(testing::SampleDyad(), Registry()));
  EXPECT_EQ(DyadTransactionJson(a, Registry()),
            DyadTransactionJson(testing::SampleDyad(), Registry()));
}

TEST(DyadBundleTest, PointsWithoutIdsHaveNoEncounterOrDerivedFrom) {
  DyadFhirInput input = testing::SampleDyad();
  input.timeline.mutable_points(0)->clear_session_id();
  input.timeline.mutable_points(0)->clear_idempotency_id();
  json o = OfType(json::parse(DyadBundleJson(input, Registry())), "Observation")[0]["resource"];
  EXPECT_FALSE(o.contains("encounter"));
  EXPECT_FALSE(o.contains("derivedFrom"));
}

TEST(DyadBundleTest, RepeatedPointGetsItsOwnIdentifier) {
  DyadFhirInput input = testing::SampleDyad();
  *input.timeline.add_points() = input.timeline.points(0);
  json b = json::parse(DyadTransactionJson(input, Registry()));
  std::set<std::string> ids;
  for (const json& e : OfType(b, "Observation")) ids.insert(e["fullUrl"].get<std::string>());
  EXPECT_EQ(ids.size(), 13u);
}

TEST(DyadBundleTest, FlagElementsAndEvidence) {
  json b = Searchset();
  std::vector<json> flags = OfType(b, "Flag");
  std::vector<json> observations = OfType(b, "Observation");
  json rupture = flags[0]["resource"];
  EXPECT_EQ(rupture["identifier"][0]["system"], kFlagSystem);
  EXPECT_EQ(rupture["identifier"][0]["value"], "3f1c0b7e9a2d4c6e8b0a1f2e3d4c5b6a");
  EXPECT_EQ(rupture["status"], "active");
  EXPECT_EQ(rupture["category"][0]["coding"][0]["code"], "clinical");
  EXPECT_EQ(rupture["code"]["coding"][0]["system"], kCodeSystemUrl);
  EXPECT_EQ(rupture["code"]["coding"][0]["code"], "rupture");
  EXPECT_EQ(rupture["subject"]["identifier"]["value"], "cl-0042");
  EXPECT_EQ(rupture["period"]["start"], "2026-03-23T09:30:00Z");
  // Evidence: the client's WAI-SR Observation of session 4, by identifier.
  ASSERT_EQ(rupture["extension"].size(), 1u);
  EXPECT_EQ(rupture["extension"][0]["url"], "http://hl7.org/fhir/StructureDefinition/flag-detail");
  EXPECT_EQ(rupture["extension"][0]["valueReference"]["identifier"],
            observations[6]["resource"]["identifier"][0]);
  EXPECT_EQ(flags[1]["resource"]["code"]["coding"][0]["code"], "unrepaired");
  // The dyad-level disengagement alert points at every Observation of its session (6).
  json disengagement = flags[2]["resource"];
  EXPECT_EQ(disengagement["code"]["coding"][0]["code"], "disengagement");
  ASSERT_EQ(disengagement["extension"].size(), 2u);
  EXPECT_EQ(disengagement["extension"][0]["valueReference"]["identifier"],
            observations[10]["resource"]["identifier"][0]);
  EXPECT_EQ(disengagement["extension"][1]["valueReference"]["identifier"],
            observations[11]["resource"]["identifier"][0]);
}

TEST(DyadBundleTest, FlagWithoutObservationHasNoEvidence) {
  DyadFhirInput input = testing::SampleDyad();
  input.open_alerts[0].set_session_number(40);
  json b = json::parse(DyadBundleJson(input, Registry()));
  EXPECT_FALSE(OfType(b, "Flag")[0]["resource"].contains("extension"));
}

TEST(DyadBundleTest, TransactionIsConditionalAndReferencesByFullUrl) {
  json b = Transaction();
  EXPECT_EQ(b["type"], "transaction");
  EXPECT_FALSE(b.contains("total"));
  std::set<std::string> full_urls;
  for (const json& e : b["entry"]) {
    std::string type = e["resource"]["resourceType"];
    const json& id = e["resource"]["identifier"][0];
    EXPECT_EQ(e["request"]["method"], "POST");
    EXPECT_EQ(e["request"]["url"], type);
    EXPECT_EQ(e["request"]["ifNoneExist"], "identifier=" + id["system"].get<std::string>() + "|" +
                                               id["value"].get<std::string>());
    EXPECT_EQ(e["fullUrl"], DeterministicUrnUuid(id["system"].get<std::string>(),
                                                 id["value"].get<std::string>()));
    EXPECT_TRUE(std::regex_match(
        e["fullUrl"].get<std::string>(),
        std::regex("urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
        << e["fullUrl"];
    full_urls.insert(e["fullUrl"].get<std::string>());
  }
  EXPECT_EQ(full_urls.size(), 15u);
  // Flags reference Observations of the same Bundle by fullUrl.
  std::vector<json> observations = OfType(b, "Observation");
  json rupture = OfType(b, "Flag")[0]["resource"];
  EXPECT_EQ(rupture["extension"][0]["valueReference"]["reference"], observations[6]["fullUrl"]);
  for (const json& flag : OfType(b, "Flag")) {
    for (const json& ext : flag["resource"]["extension"]) {
      EXPECT_EQ(full_urls.count(ext["valueReference"]["reference"].get<std::string>()), 1u);
    }
  }
}

TEST(DyadBundleTest, EmptyDyadGivesEmptyBundles) {
  DyadFhirInput input;
  input.tenant_id = "t";
  input.therapist_id = "th";
  input.client_id = "cl";
  json b = json::parse(DyadBundleJson(input, Registry()));
  EXPECT_EQ(b["total"], 0);
  EXPECT_TRUE(b["entry"].empty());
  json t = json::parse(DyadTransactionJson(input, Registry()));
  EXPECT_TRUE(t["entry"].empty());
}

}  // namespace
}  // namespace alliance::fhir
