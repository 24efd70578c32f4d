// JSON line logger behind log.h.
#include "common/log.h"

#include <cstdio>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace alliance {
namespace {

struct LogSettings {
  std::mutex mu;
  std::string component = "alliance";
  LogLevel min_level = LogLevel::kInfo;
};

LogSettings& Settings() {
  static auto* settings = new LogSettings;
  return *settings;
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void InitLog(std::string_view component, LogLevel min_level) {
  LogSettings& s = Settings();
  std::lock_guard lock(s.mu);
  s.component = std::string(component);
  s.min_level = min_level;
}

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  LogSettings& s = Settings();
  if (level < s.min_level) return;
  nlohmann::json line;
  line["ts"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line["level"] = LevelName(level);
  {
    std::lock_guard lock(s.mu);
    line["component"] = s.component;
  }
  line["event"] = std::string(event);
  for (const LogField& field : fields) {
    // Named copies: a lambda may not capture structured bindings (clang).
    const std::string_view key = field.first;
    const LogValue& value = field.second;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string_view>) {
            line[std::string(key)] = std::string(v);
          } else {
            line[std::string(key)] = v;
          }
        },
        value);
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  std::lock_guard lock(s.mu);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace alliance
