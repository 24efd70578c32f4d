// Structured JSON logs, one object per line on stderr. Callers pass identifiers and counts
// only: answers, scores of a named person and free text never go into a log line.
#ifndef ALLIANCE_COMMON_LOG_H_
#define ALLIANCE_COMMON_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace alliance {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

using LogValue = std::variant<std::string_view, int64_t, double, bool>;
using LogField = std::pair<std::string_view, LogValue>;

// Sets the process name written in every line ("intake", "worker"...), and the lowest level.
void InitLog(std::string_view component, LogLevel min_level = LogLevel::kInfo);

// Writes {"ts":...,"level":...,"component":...,"event":event, fields...} atomically.
void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

inline void LogInfo(std::string_view event, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kInfo, event, fields);
}
inline void LogWarning(std::string_view event, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kWarning, event, fields);
}
inline void LogError(std::string_view event, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kError, event, fields);
}

}  // namespace alliance

#endif  // ALLIANCE_COMMON_LOG_H_
