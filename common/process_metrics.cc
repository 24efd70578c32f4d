// Process metrics from /proc/self (common/process_metrics.h).
#include "common/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/metrics.h"
#include "common/process.h"

namespace alliance {
namespace {

// Seconds since the epoch at which the machine booted (the `btime` line of /proc/stat).
double BootTimeSeconds() {
  absl::StatusOr<std::string> stat = ReadFileToString("/proc/stat");
  if (!stat.ok()) return 0;
  for (absl::string_view line : absl::StrSplit(*stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      double seconds = 0;
      return absl::SimpleAtod(line, &seconds) ? seconds : 0;
    }
  }
  return 0;
}

double OpenFds() {
  std::error_code ec;
  double n = 0;
  // Bounded by the fd limit the process has.
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace

std::optional<ProcessStat> ParseProcessStat(std::string_view text, double ticks_per_second,
                                            double page_size, double boot_time_seconds) {
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  // Fields from 3 (state) on.
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(text.data() + close + 1, text.size() - close - 1), ' ',
                     absl::SkipWhitespace());
  auto field = [&](int number, double* out) {  // proc(5) numbering: field 3 is fields[0]
    const size_t index = static_cast<size_t>(number - 3);
    return index < fields.size() && absl::SimpleAtod(fields[index], out);
  };
  double utime = 0, stime = 0, threads = 0, start_ticks = 0, vsize = 0, rss_pages = 0;
  if (!field(14, &utime) || !field(15, &stime) || !field(20, &threads) ||
      !field(22, &start_ticks) || !field(23, &vsize) || !field(24, &rss_pages)) {
    return std::nullopt;
  }
  ProcessStat stat;
  stat.cpu_seconds = (utime + stime) / ticks_per_second;
  stat.start_time_seconds = boot_time_seconds + start_ticks / ticks_per_second;
  stat.virtual_bytes = vsize;
  stat.resident_bytes = rss_pages * page_size;
  stat.threads = threads;
  return stat;
}

void ExportProcessMetrics(MetricsRegistry& registry) {
  Counter* cpu = registry.GetCounter("process_cpu_seconds_total",
                                     "Total user and system CPU time spent in seconds.");
  Gauge* resident =
      registry.GetGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  Gauge* virtual_bytes =
      registry.GetGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
  Gauge* start = registry.GetGauge("process_start_time_seconds",
                                   "Start time of the process since unix epoch in seconds.");
  Gauge* threads = registry.GetGauge("process_threads", "Number of OS threads in the process.");
  Gauge* open_fds = registry.GetGauge("process_open_fds", "Number of open file descriptors.");
  Gauge* max_fds = registry.GetGauge("process_max_fds", "Maximum number of open file descriptors.");
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double boot = BootTimeSeconds();
  registry.AddCollector([=] {
    absl::StatusOr<std::string> text = ReadFileToString("/proc/self/stat");
    if (!text.ok()) return;
    std::optional<ProcessStat> stat = ParseProcessStat(*text, ticks, page, boot);
    if (!stat.has_value()) return;
    // The counter only goes up: add what was spent since the last scrape.
    if (stat->cpu_seconds > cpu->Value()) cpu->Increment(stat->cpu_seconds - cpu->Value());
    resident->Set(stat->resident_bytes);
    virtual_bytes->Set(stat->virtual_bytes);
    start->Set(stat->start_time_seconds);
    threads->Set(stat->threads);
    open_fds->Set(OpenFds());
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) max_fds->Set(static_cast<double>(limit.rlim_cur));
  });
}

}  // namespace alliance
