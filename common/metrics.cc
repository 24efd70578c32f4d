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

// The wrapper of `labels` in `family` (a prometheus::Family<Metric>*), made on first use; when
// there is no family, or prometheus-cpp refuses the labels, an orphan: a wrapper of a metric of
// no registry that `keep` holds alive and nothing exports.
template <typename Wrapper, typename Metric, typename MakeOrphan, typename... AddArgs>
Wrapper* WrapOrOrphan(void* family,
                      absl::flat_hash_map<std::string, std::unique_ptr<Wrapper>>* wrappers,
                      std::string_view name,
                      const std::vector<std::pair<std::string, std::string>>& labels,
                      std::vector<std::shared_ptr<void>>& keep, MakeOrphan make_orphan,
                      const AddArgs&... add_args) {
  if (family != nullptr) {
    std::unique_ptr<Wrapper>& wrapper = (*wrappers)[LabelKey(labels)];
    if (wrapper != nullptr) return wrapper.get();
    try {
      auto* typed = static_cast<prometheus::Family<Metric>*>(family);
      wrapper = std::make_unique<Wrapper>(&typed->Add(ToPrometheus(labels), add_args...));
      return wrapper.get();
    } catch (const std::exception& e) {
      LogRefused(name, e.what());
    }
  }
  std::shared_ptr<Metric> orphan = make_orphan();
  auto orphan_wrapper = std::make_shared<Wrapper>(orphan.get());
  keep.push_back(std::move(orphan));
  keep.push_back(orphan_wrapper);
  return orphan_wrapper.get();
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

Counter* MetricsRegistry::GetCounter(std::string_view name, std::string_view help,
                                     const Labels& labels) {
  absl::MutexLock lock(&mu_);
  void* family = FamilyFor(std::string(name), std::string(help), "counter");
  return WrapOrOrphan<Counter, prometheus::Counter>(
      family, family != nullptr ? &families_[std::string(name)].counters : nullptr, name, labels,
      orphan_metrics_, [] { return std::make_shared<prometheus::Counter>(); });
}

Gauge* MetricsRegistry::GetGauge(std::string_view name, std::string_view help,
                                 const Labels& labels) {
  absl::MutexLock lock(&mu_);
  void* family = FamilyFor(std::string(name), std::string(help), "gauge");
  return WrapOrOrphan<Gauge, prometheus::Gauge>(
      family, family != nullptr ? &families_[std::string(name)].gauges : nullptr, name, labels,
      orphan_metrics_, [] { return std::make_shared<prometheus::Gauge>(); });
}

Histogram* MetricsRegistry::GetHistogram(std::string_view name, std::string_view help,
                                         const std::vector<double>& bounds, const Labels& labels) {
  absl::MutexLock lock(&mu_);
  // prometheus-cpp throws on bounds that are not strictly increasing: refuse them here.
  const bool bounds_ok = std::adjacent_find(bounds.begin(), bounds.end(), [](double a, double b) {
                           return !(a < b);
                         }) == bounds.end();
  if (!bounds_ok) LogRefused(name, "histogram bounds are not strictly increasing");
  void* family = bounds_ok ? FamilyFor(std::string(name), std::string(help), "histogram") : nullptr;
  return WrapOrOrphan<Histogram, prometheus::Histogram>(
      family, family != nullptr ? &families_[std::string(name)].histograms : nullptr, name, labels,
      orphan_metrics_,
      [] {
        return std::make_shared<prometheus::Histogram>(prometheus::Histogram::BucketBoundaries{});
      },
      bounds);
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
