// Version line, metric and log line of common/build_info.h (the values themselves are
// generated at build time by common/build_info.cmake).
#include "common/build_info.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/strings.h"

namespace alliance {

std::string VersionLine(std::string_view program) {
  return absl::StrCat(Absl(program), " ", Absl(AllianceVersion()), " (revision ",
                      Absl(SourceRevision()), ")");
}

void ExportBuildInfo(MetricsRegistry& registry) {
  registry
      .GetGauge("alliance_build_info", "Version and source revision of this binary (always 1).",
                {{"version", std::string(AllianceVersion())},
                 {"revision", std::string(SourceRevision())}})
      ->Set(1);
}

void LogBuildInfo() {
  LogInfo("build", {{"version", std::string(AllianceVersion())},
                    {"revision", std::string(SourceRevision())}});
}

}  // namespace alliance
