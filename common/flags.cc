// Shared flag definitions and the configuration built from them.
#include "common/flags.h"

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/build_info.h"
#include "common/library_logs.h"
#include "common/log.h"
#include "common/process.h"

ABSL_FLAG(int32_t, health_port, 0,
          "Plaintext port for the gRPC health service (Kubernetes probes); 0 to disable.");
ABSL_FLAG(int32_t, metrics_port, 0, "HTTP port serving Prometheus /metrics; 0 to disable.");
ABSL_FLAG(std::string, instruments_dir, "",
          "Folder of extra instrument definitions (*.json) added to the built-in ones.");
ABSL_FLAG(std::string, rules_file, "",
          "JSON file of rupture/repair thresholds; empty for the documented defaults.");
ABSL_FLAG(std::string, log_level, "info", "Lowest log level written: debug, info, warning, error.");

namespace alliance {

absl::StatusOr<analytics::InstrumentRegistry> InstrumentRegistryFromFlags() {
  std::string dir = absl::GetFlag(FLAGS_instruments_dir);
  std::vector<std::pair<std::string, std::string>> documents;
  if (!dir.empty()) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.is_regular_file() && entry.path().extension() == ".json") {
        files.push_back(entry.path());
      }
    }
    if (ec) {
      return absl::NotFoundError(absl::StrCat("--instruments_dir ", dir, ": ", ec.message()));
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      absl::StatusOr<std::string> text = ReadFileToString(file.string());
      if (!text.ok()) return text.status();
      documents.emplace_back(file.string(), *std::move(text));
    }
  }
  return analytics::InstrumentRegistry::WithExtra(documents);
}

absl::StatusOr<analytics::RuleConfig> RuleConfigFromFlags() {
  std::string file = absl::GetFlag(FLAGS_rules_file);
  if (file.empty()) return analytics::RuleConfig{};
  absl::StatusOr<std::string> text = ReadFileToString(file);
  if (!text.ok()) return text.status();
  return analytics::ParseRuleConfigJson(*text, file);
}

absl::Status InitLogFromFlags(std::string_view component) {
  std::string level = absl::GetFlag(FLAGS_log_level);
  LogLevel min_level;
  if (level == "debug") {
    min_level = LogLevel::kDebug;
  } else if (level == "info") {
    min_level = LogLevel::kInfo;
  } else if (level == "warning") {
    min_level = LogLevel::kWarning;
  } else if (level == "error") {
    min_level = LogLevel::kError;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--log_level: unknown level '", level, "'"));
  }
  InitLog(component, min_level);
  RouteLibraryLogs();
  LogBuildInfo();
  return absl::OkStatus();
}

}  // namespace alliance
