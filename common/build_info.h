// What a binary is: the project version (CMake's project version) and the source revision it
// was built from (`git describe`, or ALLIANCE_REVISION for builds without .git), for
// `--version`, the start-up log line and the alliance_build_info metric.
#ifndef ALLIANCE_COMMON_BUILD_INFO_H_
#define ALLIANCE_COMMON_BUILD_INFO_H_

#include <string>
#include <string_view>

namespace alliance {

class MetricsRegistry;

// "0.1.0"
std::string_view AllianceVersion();
// "2e03e7a1b2c3", "2e03e7a1b2c3-dirty", "v0.1.0-3-g2e03e7a1b2c3", or "unknown".
std::string_view SourceRevision();
// "alliance-intake 0.1.0 (revision 2e03e7a1b2c3)"
std::string VersionLine(std::string_view program);

// alliance_build_info{version,revision} 1, the usual Prometheus way to join a version to
// every other series.
void ExportBuildInfo(MetricsRegistry& registry);
// One JSON log line `build` with the version and revision, at start-up.
void LogBuildInfo();

}  // namespace alliance

#endif  // ALLIANCE_COMMON_BUILD_INFO_H_
