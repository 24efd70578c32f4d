// FHIR resources judged by scripts/fhir-tools.sh; see fhir_files.h.
#include "tests/support/fhir_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <fstream>

#include "absl/strings/str_cat.h"

namespace alliance::testing {

FhirFiles::FhirFiles(const std::string& label) {
  std::string tmpl = absl::StrCat("/tmp/alliance-fhir-", label, "-XXXXXX");
  if (mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
}

void FhirFiles::Add(const std::string& name, const std::string& json) {
  std::ofstream(absl::StrCat(dir_, "/", name, ".json")) << json;
}

absl::Status FhirFiles::Validate() const {
  if (dir_.empty()) return absl::InternalError("no folder for the FHIR files");
  // The script's default cache (one for every build folder): installed once.
  const std::string command =
      absl::StrCat(ALLIANCE_SOURCE_DIR, "/scripts/fhir-tools.sh validate --valid ", dir_, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("cannot run scripts/fhir-tools.sh");
  std::string output;
  char buffer[4096];
  // Bounded by the validator's output: it reads a fixed set of files and exits.
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
    return absl::FailedPreconditionError("node is not installed: " + output);
  }
  return absl::InvalidArgumentError(absl::StrCat("FHIR validation failed:\n", output));
}

}  // namespace alliance::testing
