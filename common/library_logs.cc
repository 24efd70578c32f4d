// Library log routing behind library_logs.h.
#include "common/library_logs.h"

#include <google/protobuf/stubs/logging.h>
#include <grpc/support/log.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/time/clock.h"
#include "common/log.h"

namespace alliance {
namespace {

constexpr size_t kMaxMessage = 512;

LogRateLimiter& ProtobufBudget() {
  static auto* limiter = new LogRateLimiter(20, absl::Seconds(1));
  return *limiter;
}

LogRateLimiter& GrpcBudget() {
  static auto* limiter = new LogRateLimiter(20, absl::Seconds(1));
  return *limiter;
}

void Write(LogRateLimiter& budget, LogLevel level, std::string_view source, std::string_view file,
           int64_t line, std::string_view message) {
  int64_t suppressed = 0;
  if (!budget.Allow(absl::Now(), &suppressed)) return;
  if (message.size() > kMaxMessage) message = message.substr(0, kMaxMessage);
  Log(level, "library_log",
      {{"library", source},
       {"file", file},
       {"line", line},
       {"message", message},
       {"suppressed", suppressed}});
}

void OnProtobufLog(google::protobuf::LogLevel level, const char* filename, int line,
                   const std::string& message) {
  LogLevel ours = level >= google::protobuf::LOGLEVEL_ERROR     ? LogLevel::kError
                  : level == google::protobuf::LOGLEVEL_WARNING ? LogLevel::kWarning
                                                                : LogLevel::kInfo;
  Write(ProtobufBudget(), ours, "protobuf", filename == nullptr ? "" : filename, line, message);
}

void OnGrpcLog(gpr_log_func_args* args) {
  LogLevel ours = args->severity == GPR_LOG_SEVERITY_ERROR  ? LogLevel::kError
                  : args->severity == GPR_LOG_SEVERITY_INFO ? LogLevel::kInfo
                                                            : LogLevel::kDebug;
  Write(GrpcBudget(), ours, "grpc", args->file == nullptr ? "" : args->file, args->line,
        args->message == nullptr ? "" : args->message);
}

}  // namespace

bool LogRateLimiter::Allow(absl::Time now, int64_t* suppressed) {
  absl::MutexLock lock(&mu_);
  const absl::Time full_at = std::max(full_at_, now);
  // Room for one more line while the bucket holds less than `burst_ - 1` intervals of debt.
  if (full_at - now > (burst_ - 1) * interval_) {
    ++suppressed_;
    return false;
  }
  full_at_ = full_at + interval_;
  *suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

void RouteLibraryLogs() {
  static std::once_flag once;
  std::call_once(once, [] {
    google::protobuf::SetLogHandler(&OnProtobufLog);
    gpr_set_log_function(&OnGrpcLog);
  });
}

}  // namespace alliance
