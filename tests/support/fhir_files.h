// FHIR resources a test sent or received, written to a folder and judged by the independent
// validator the FHIR tests use (scripts/fhir-tools.sh: FHIR.js, installed into the build's cache).
#ifndef ALLIANCE_TESTS_SUPPORT_FHIR_FILES_H_
#define ALLIANCE_TESTS_SUPPORT_FHIR_FILES_H_

#include <string>

#include "absl/status/status.h"

namespace alliance::testing {

class FhirFiles {
 public:
  // A fresh folder under /tmp named after `label`.
  explicit FhirFiles(const std::string& label);
  // Writes `json` as <name>.json.
  void Add(const std::string& name, const std::string& json);
  // OK when the validator accepts every file; otherwise its report. A machine without node
  // (the test command installs it) is FAILED_PRECONDITION.
  absl::Status Validate() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_SUPPORT_FHIR_FILES_H_
