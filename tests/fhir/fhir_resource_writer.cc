// Writes every kind of resource alliance_fhir produces into a folder, one JSON file each, for the
// independent FHIR validator (tests/fhir/validate.cjs): the Questionnaire of each built-in
// instrument, the Questionnaire Bundle, the CodeSystem, the sample dyad's searchset and
// transaction Bundles, OperationOutcomes for statuses with and without a FHIRPath, and the two
// services' CapabilityStatements.
// Usage: fhir_resource_writer OUT_DIR
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "analytics/registry.h"
#include "common/fhir/capability.h"
#include "common/fhir/dyad_bundle.h"
#include "common/fhir/questionnaire.h"
#include "common/fhir/questionnaire_response.h"
#include "tests/fhir/sample_dyad.h"

namespace {

bool Write(const std::filesystem::path& dir, const std::string& name, const std::string& text) {
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out << text << "\n";
  out.close();
  if (!out) {
    std::cerr << "fhir_resource_writer: cannot write " << (dir / name) << "\n";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fhir_resource_writer OUT_DIR\n";
    return 2;
  }
  std::filesystem::path dir(argv[1]);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << "fhir_resource_writer: cannot create " << dir << ": " << ec.message() << "\n";
    return 1;
  }
  const auto& registry = alliance::analytics::InstrumentRegistry::BuiltIn();
  bool ok = true;
  int count = 0;
  auto write = [&](const std::string& name, const std::string& text) {
    ok = Write(dir, name, text) && ok;
    ++count;
  };
  for (const std::string& id : registry.Ids()) {
    write("questionnaire-" + id + ".json", alliance::fhir::QuestionnaireJson(*registry.Find(id)));
  }
  write("questionnaire-bundle.json", alliance::fhir::QuestionnaireBundleJson(registry));
  write("codesystem.json", alliance::fhir::CodeSystemJson(registry));
  alliance::fhir::DyadFhirInput dyad = alliance::fhir::testing::SampleDyad();
  write("dyad-searchset.json", alliance::fhir::DyadBundleJson(dyad, registry));
  write("dyad-transaction.json", alliance::fhir::DyadTransactionJson(dyad, registry));
  write("operation-outcome-invalid.json",
        alliance::fhir::OperationOutcomeJson(absl::InvalidArgumentError(
            "QuestionnaireResponse.item[2].answer[0].valueInteger: 7 is outside 1..5 for item 3")));
  write("operation-outcome-not-found.json",
        alliance::fhir::OperationOutcomeJson(absl::NotFoundError("no such dyad")));
  write("operation-outcome-duplicate.json",
        alliance::fhir::OperationOutcomeJson(
            absl::AlreadyExistsError("idempotency_id: already used with other content")));
  write("operation-outcome-unauthenticated.json",
        alliance::fhir::OperationOutcomeJson(absl::UnauthenticatedError("no API key")));
  write("operation-outcome-unavailable.json",
        alliance::fhir::OperationOutcomeJson(absl::UnavailableError("")));
  write("operation-outcome-ok.json", alliance::fhir::OperationOutcomeJson(absl::OkStatus()));
  write("capability-intake.json",
        alliance::fhir::CapabilityStatementJson(alliance::fhir::FhirServer::kIntake));
  write("capability-insights.json",
        alliance::fhir::CapabilityStatementJson(alliance::fhir::FhirServer::kInsights));
  if (!ok) return 1;
  std::cout << "fhir_resource_writer: " << count << " resources in " << dir.string() << "\n";
  return 0;
}
