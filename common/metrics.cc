// The metrics registry on prometheus-cpp and the /metrics endpoint behind metrics.h.
#include "common/metrics.h"

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <exception>

#include "absl/strings/str_cat.h"
#include "common/build_info.h"
#include "common/log.h"
#include "common/process_metrics.h"

namespace alliance {
namespace {

prometheus::Labels ToPrometheus(const std::vector<std::pair<std::string, std::string>>& labels) {
  return prometheus::Labels(labels.begin(), labels.end());
}

// The identity of a label set (names are distinct; values may hold any byte but NUL).
std::string LabelKey(const std::vector<std::pair<std::string, std::string>>& labels) {
  std::string key;
  for (const auto& [k, v] : labels) absl::StrAppend(&key, k, absl::string_view("\0", 1), v, "\n");
  return key;
}

void LogRefused(std::string_view name, std::string_view why) {
  LogError("metric_refused", {{"metric", name}, {"error", why}});
}

}  // namespace

void Counter::Increment(double by) { counter_->Increment(by); }
double Counter::Value() const { return counter_->Value(); }

void Gauge::Set(double v) { gauge_->Set(v); }
void Gauge::Add(double by) { gauge_->Increment(by); }
double Gauge::Value() const { return gauge_->Value(); }

void Histogram::Observe(double v) { histogram_->Observe(v); }

std::vector<double> MetricsRegistry::LatencyBuckets() {
  return {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {
  ExportBuildInfo(*this);
  ExportProcessMetrics(*this);
}

MetricsRegistry::~MetricsRegistry() = default;

void* MetricsRegistry::FamilyFor(const std::string& name, const std::string& help,
                                 const char* type) {
  Family& family = families_[name];
  if (family.type.empty()) {
    family.type = type;
    try {
      if (family.type == "counter") {
        family.family = &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
      } else if (family.type == "gauge") {
        family.family = &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
      } else {
        family.family = &prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
      }
    } catch (const std::exception& e) {
      LogRefused(name, e.what());
      family.type = "refused";
    }
  }
  if (family.type != type) {
    if (family.type != "refused") {
      LogRefused(name, absl::StrCat("already a ", family.type, ", asked for a ", type));
    }
    return nullptr;
  }
  return family.family;
}

void MetricsRegistry::KeepOrphan(std::shared_ptr<void> metric) {
  orphan_metrics_.push_back(std::move(metric));
}

Counter* MetricsRegistry::GetCounter(
    std::string_view name, std::string_view help,
    const std::vector<std::pair<std::string, std::string>>& labels) {
  absl::MutexLock lock(&mu_);
  void* family = FamilyFor(std::string(name), std::string(help), "counter");
  if (family != nullptr) {
    std::unique_ptr<Counter>& slot = families_[std::string(name)].counters[LabelKey(labels)];
    if (slot != nullptr) return slot.get();
    try {
      auto* f = static_cast<prometheus::Family<prometheus::Counter>*>(family);
      slot = std::make_unique<Counter>(&f->Add(ToPrometheus(labels)));
      return slot.get();
    } catch (const std::exception& e) {
      LogRefused(name, e.what());
    }
  }
  auto orphan = std::make_shared<prometheus::Counter>();
  orphan_counters_.push_back(std::make_unique<Counter>(orphan.get()));
  KeepOrphan(std::move(orphan));
  return orphan_counters_.back().get();
}

Gauge* MetricsRegistry::GetGauge(std::string_view name, std::string_view help,
                                 const std::vector<std::pair<std::string, std::string>>& labels) {
  absl::MutexLock lock(&mu_);
  void* family = FamilyFor(std::string(name), std::string(help), "gauge");
  if (family != nullptr) {
    std::unique_ptr<Gauge>& slot = families_[std::string(name)].gauges[LabelKey(labels)];
    if (slot != nullptr) return slot.get();
    try {
      auto* f = static_cast<prometheus::Family<prometheus::Gauge>*>(family);
      slot = std::make_unique<Gauge>(&f->Add(ToPrometheus(labels)));
      return slot.get();
    } catch (const std::exception& e) {
      LogRefused(name, e.what());
    }
  }
  auto orphan = std::make_shared<prometheus::Gauge>();
  orphan_gauges_.push_back(std::make_unique<Gauge>(orphan.get()));
  KeepOrphan(std::move(orphan));
  return orphan_gauges_.back().get();
}

Histogram* MetricsRegistry::GetHistogram(
    std::string_view name, std::string_view help, const std::vector<double>& bounds,
    const std::vector<std::pair<std::string, std::string>>& labels) {
  absl::MutexLock lock(&mu_);
  // prometheus-cpp throws on bounds that are not strictly increasing: refuse them here.
  const bool bounds_ok = std::adjacent_find(bounds.begin(), bounds.end(), [](double a, double b) {
                           return !(a < b);
                         }) == bounds.end();
  if (!bounds_ok) LogRefused(name, "histogram bounds are not strictly increasing");
  void* family = bounds_ok ? FamilyFor(std::string(name), std::string(help), "histogram") : nullptr;
  if (family != nullptr) {
    std::unique_ptr<Histogram>& slot = families_[std::string(name)].histograms[LabelKey(labels)];
    if (slot != nullptr) return slot.get();
    try {
      auto* f = static_cast<prometheus::Family<prometheus::Histogram>*>(family);
      slot = std::make_unique<Histogram>(&f->Add(ToPrometheus(labels), bounds));
      return slot.get();
    } catch (const std::exception& e) {
      LogRefused(name, e.what());
    }
  }
  auto orphan = std::make_shared<prometheus::Histogram>(prometheus::Histogram::BucketBoundaries{});
  orphan_histograms_.push_back(std::make_unique<Histogram>(orphan.get()));
  KeepOrphan(std::move(orphan));
  return orphan_histograms_.back().get();
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
  try {
    return prometheus::TextSerializer().Serialize(registry_->Collect());
  } catch (const std::exception& e) {
    LogError("metrics_render_failed", {{"error", std::string_view(e.what())}});
    return "";
  }
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
