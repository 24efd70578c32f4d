// The standard process metrics of Prometheus client libraries (process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
// process_max_fds, process_start_time_seconds, process_threads), read from /proc/self at every
// scrape. prometheus-cpp has no process collector, so every MetricsRegistry adds this one.
#ifndef ALLIANCE_COMMON_PROCESS_METRICS_H_
#define ALLIANCE_COMMON_PROCESS_METRICS_H_

#include <optional>
#include <string_view>

namespace alliance {

class MetricsRegistry;

// What /proc/self/stat says, parsed (fields 14, 15, 20, 22, 23, 24 of proc(5)).
struct ProcessStat {
  double cpu_seconds = 0;         // utime + stime
  double start_time_seconds = 0;  // since the Unix epoch
  double virtual_bytes = 0;
  double resident_bytes = 0;
  double threads = 0;
};

// Parses the text of /proc/self/stat; nullopt when it does not have the expected shape. The
// command name (field 2) may hold spaces and parentheses, so parsing starts after the last ')'.
// `ticks_per_second`, `page_size` and `boot_time_seconds` convert its units.
std::optional<ProcessStat> ParseProcessStat(std::string_view text, double ticks_per_second,
                                            double page_size, double boot_time_seconds);

// Registers the process_* metrics on `registry` and a collector that refreshes them.
void ExportProcessMetrics(MetricsRegistry& registry);

}  // namespace alliance

#endif  // ALLIANCE_COMMON_PROCESS_METRICS_H_
