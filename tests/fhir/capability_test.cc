// The services' CapabilityStatements: FHIR 4.0.1, JSON, and each the resources its routes serve.
#include "common/fhir/capability.h"

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alliance::fhir {
namespace {

std::set<std::string> ResourceTypes(const nlohmann::json& statement) {
  std::set<std::string> types;
  for (const nlohmann::json& r : statement["rest"][0]["resource"]) types.insert(r["type"]);
  return types;
}

TEST(CapabilityStatementTest, EachServiceDeclaresWhatItsRoutesServe) {
  nlohmann::json intake = nlohmann::json::parse(CapabilityStatementJson(FhirServer::kIntake));
  nlohmann::json insights = nlohmann::json::parse(CapabilityStatementJson(FhirServer::kInsights));
  for (const nlohmann::json* s : {&intake, &insights}) {
    EXPECT_EQ((*s)["resourceType"], "CapabilityStatement");
    EXPECT_EQ((*s)["fhirVersion"], "4.0.1");
    EXPECT_EQ((*s)["format"], nlohmann::json::array({"json"}));
    EXPECT_EQ((*s)["rest"][0]["mode"], "server");
  }
  EXPECT_EQ(ResourceTypes(intake), (std::set<std::string>{"QuestionnaireResponse"}));
  EXPECT_EQ(intake["rest"][0]["resource"][0]["interaction"][0]["code"], "create");
  EXPECT_EQ(ResourceTypes(insights),
            (std::set<std::string>{"Questionnaire", "CodeSystem", "Bundle"}));
  EXPECT_NE(intake["url"], insights["url"]);
}

}  // namespace
}  // namespace alliance::fhir
