// Prometheus registry and /metrics endpoint behind metrics.h.
#include "common/metrics.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/build_info.h"

namespace alliance {
namespace {

void AtomicAdd(std::atomic<double>& target, double by) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + by, std::memory_order_relaxed)) {
  }
}

std::string EscapeLabel(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string LabelKey(const std::vector<std::pair<std::string, std::string>>& labels) {
  std::string key;
  for (const auto& [k, v] : labels) {
    if (!key.empty()) key.push_back(',');
    absl::StrAppend(&key, k, "=\"", EscapeLabel(v), "\"");
  }
  return key;
}

std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return absl::StrFormat("%.17g", v);
}

std::string Braced(absl::string_view labels, absl::string_view extra = {}) {
  if (labels.empty() && extra.empty()) return "";
  std::string out = "{";
  absl::StrAppend(&out, labels);
  if (!labels.empty() && !extra.empty()) out.push_back(',');
  absl::StrAppend(&out, extra, "}");
  return out;
}

}  // namespace

void Counter::Increment(double by) { AtomicAdd(value_, by); }
void Gauge::Add(double by) { AtomicAdd(value_, by); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::Snapshot(std::vector<uint64_t>* cumulative, double* sum, uint64_t* count) const {
  cumulative->assign(bounds_.size() + 1, 0);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    (*cumulative)[i] = running;
  }
  *sum = sum_.load(std::memory_order_relaxed);
  *count = running;
}

std::vector<double> MetricsRegistry::LatencyBuckets() {
  return {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

MetricsRegistry::Family& MetricsRegistry::FamilyFor(std::string_view name, std::string_view type,
                                                    std::string_view help) {
  for (auto& [n, family] : families_) {
    if (n == name) return *family;
  }
  auto family = std::make_unique<Family>();
  family->type = std::string(type);
  family->help = std::string(help);
  families_.emplace_back(std::string(name), std::move(family));
  return *families_.back().second;
}

MetricsRegistry::MetricsRegistry() { ExportBuildInfo(*this); }

Counter* MetricsRegistry::GetCounter(
    std::string_view name, std::string_view help,
    const std::vector<std::pair<std::string, std::string>>& labels) {
  absl::MutexLock lock(&mu_);
  auto& slot = FamilyFor(name, "counter", help).counters[LabelKey(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return slot.get();
}

Gauge* MetricsRegistry::GetGauge(std::string_view name, std::string_view help,
                                 const std::vector<std::pair<std::string, std::string>>& labels) {
  absl::MutexLock lock(&mu_);
  auto& slot = FamilyFor(name, "gauge", help).gauges[LabelKey(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return slot.get();
}

Histogram* MetricsRegistry::GetHistogram(
    std::string_view name, std::string_view help, const std::vector<double>& bounds,
    const std::vector<std::pair<std::string, std::string>>& labels) {
  absl::MutexLock lock(&mu_);
  auto& slot = FamilyFor(name, "histogram", help).histograms[LabelKey(labels)];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return slot.get();
}

void MetricsRegistry::AddCollector(std::function<void()> collector) {
  absl::MutexLock lock(&mu_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::Render() const {
  std::vector<std::function<void()>> collectors;
  {
    absl::MutexLock lock(&mu_);
    collectors = collectors_;
  }
  for (auto& collect : collectors) collect();

  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    absl::StrAppend(&out, "# HELP ", name, " ", family->help, "\n# TYPE ", name, " ", family->type,
                    "\n");
    for (const auto& [labels, c] : family->counters) {
      absl::StrAppend(&out, name, Braced(labels), " ", FormatValue(c->Value()), "\n");
    }
    for (const auto& [labels, g] : family->gauges) {
      absl::StrAppend(&out, name, Braced(labels), " ", FormatValue(g->Value()), "\n");
    }
    for (const auto& [labels, h] : family->histograms) {
      std::vector<uint64_t> cumulative;
      double sum = 0;
      uint64_t count = 0;
      h->Snapshot(&cumulative, &sum, &count);
      for (size_t i = 0; i < cumulative.size(); ++i) {
        std::string le = i < h->bounds().size() ? FormatValue(h->bounds()[i]) : "+Inf";
        absl::StrAppend(&out, name, "_bucket", Braced(labels, absl::StrCat("le=\"", le, "\"")), " ",
                        cumulative[i], "\n");
      }
      absl::StrAppend(&out, name, "_sum", Braced(labels), " ", FormatValue(sum), "\n");
      absl::StrAppend(&out, name, "_count", Braced(labels), " ", count, "\n");
    }
  }
  return out;
}

MetricsServer::MetricsServer(const MetricsRegistry* registry) : registry_(registry) {}

MetricsServer::~MetricsServer() { Stop(); }

absl::Status MetricsServer::Start(const std::string& host, int port) {
  if (port == 0) return absl::OkStatus();
  server_ = std::make_unique<httplib::Server>();
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry_->Render(), "text/plain; version=0.0.4");
  });
  if (!server_->bind_to_port(host.c_str(), port)) {
    return absl::UnavailableError(absl::StrCat("metrics: cannot bind ", host, ":", port));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return absl::OkStatus();
}

void MetricsServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace alliance
