// The QuestionnaireResponses in tests/fhir/inputs/ (the same files FHIR.js judges in the
// fhir_validator test): every valid one maps to a Feedback, every malformed one is refused with
// the FHIRPath its entry in invalid/expectations.json names.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "analytics/registry.h"
#include "common/fhir/questionnaire_response.h"
#include "nlohmann/json.hpp"

namespace alliance::fhir {
namespace {

const std::filesystem::path kInputs(ALLIANCE_FHIR_INPUTS);

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(InputFilesTest, ValidResponsesMapToFeedback) {
  std::set<std::string> instruments;
  for (const auto& entry : std::filesystem::directory_iterator(kInputs / "valid")) {
    absl::StatusOr<alliance::v1::Feedback> f = FeedbackFromQuestionnaireResponse(
        ReadFile(entry.path()), analytics::InstrumentRegistry::BuiltIn());
    ASSERT_TRUE(f.ok()) << entry.path() << ": " << f.status();
    instruments.insert(f->instrument_id());
  }
  std::vector<std::string> ids = analytics::InstrumentRegistry::BuiltIn().Ids();
  EXPECT_EQ(instruments, std::set<std::string>(ids.begin(), ids.end()))
      << "one valid response per built-in instrument";
}

TEST(InputFilesTest, MalformedResponsesRefusedAtTheirFhirPath) {
  nlohmann::json expectations =
      nlohmann::json::parse(ReadFile(kInputs / "invalid" / "expectations.json"), nullptr, false);
  ASSERT_TRUE(expectations.is_object());
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kInputs / "invalid")) {
    if (entry.path().filename() != "expectations.json") ++files;
  }
  EXPECT_EQ(files, expectations.size()) << "every malformed input has an expectation";
  for (const auto& [name, expect] : expectations.items()) {
    absl::StatusOr<alliance::v1::Feedback> f = FeedbackFromQuestionnaireResponse(
        ReadFile(kInputs / "invalid" / name), analytics::InstrumentRegistry::BuiltIn());
    ASSERT_FALSE(f.ok()) << name << " was accepted";
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(IssueFromStatus(f.status()).expression, expect.value("expression", "?"))
        << name << ": " << f.status();
  }
}

}  // namespace
}  // namespace alliance::fhir
