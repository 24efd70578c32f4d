// CapabilityStatements of intake and insights; see capability.h.
#include "common/fhir/capability.h"

#include "common/fhir/fhir.h"
#include "common/fhir/fhir_json.h"

namespace alliance::fhir {
namespace {

using internal::Json;

Json Interactions(std::initializer_list<const char*> codes) {
  Json out = Json::array();
  for (const char* code : codes) out.push_back({{"code", code}});
  return out;
}

}  // namespace

std::string CapabilityStatementJson(FhirServer server) {
  const bool intake = server == FhirServer::kIntake;
  Json resources = Json::array();
  if (intake) {
    resources.push_back(
        {{"type", "QuestionnaireResponse"},
         {"documentation",
          "POST one completed QuestionnaireResponse of an Alliance Questionnaire; its identifier "
          "makes retries safe (201 stored, 200 a retry, 409 the identifier with other content)."},
         {"interaction", Interactions({"create"})}});
  } else {
    resources.push_back({{"type", "Questionnaire"},
                         {"documentation", "Every instrument Alliance scores, by instrument id."},
                         {"interaction", Interactions({"read", "search-type"})}});
    resources.push_back({{"type", "CodeSystem"},
                         {"documentation", "The Alliance CodeSystem, id alliance."},
                         {"interaction", Interactions({"read"})}});
    resources.push_back(
        {{"type", "Bundle"},
         {"documentation",
          "GET /fhir/dyads/{therapist_id}/{client_id}: a dyad's Observations and Flags "
          "(searchset); .../$export: the same as a transaction of conditional creates."}});
  }
  Json statement = {
      {"resourceType", "CapabilityStatement"},
      {"id", intake ? "alliance-intake" : "alliance-insights"},
      {"url", std::string(kBase) + "/CapabilityStatement/" +
                  (intake ? "alliance-intake" : "alliance-insights")},
      {"name", intake ? "AllianceIntake" : "AllianceInsights"},
      {"title", intake ? "Alliance intake: QuestionnaireResponses in"
                       : "Alliance insights: Questionnaires, Observations and Flags out"},
      {"status", "active"},
      {"date", "2026-12-03"},
      {"publisher", "Alliance"},
      {"kind", "instance"},
      {"software", {{"name", intake ? "alliance-intake" : "alliance-insights"}}},
      {"implementation",
       {{"description", intake ? "Alliance intake service" : "Alliance insights service"}}},
      {"fhirVersion", "4.0.1"},
      {"format", Json::array({"json"})},
      {"rest",
       Json::array(
           {{{"mode", "server"},
             {"documentation",
              "Every request carries an API key (Authorization: Bearer <key> or "
              "X-Api-Key); the key decides the tenant and the scopes (docs/security.md)."},
             {"security", {{"description", "API keys with scopes submit, read, watch and admin."}}},
             {"resource", resources}}})},
  };
  return internal::Dump(statement);
}

}  // namespace alliance::fhir
