// The alert delivery benchmarks' shared parts; see bench_alerts.h.
#include "tests/services/insights/bench_alerts.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alliance/v1/common.pb.h"

namespace alliance::bench {

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

double Percentile(std::vector<double>& v, double q) {
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

absl::Status AppendBenchAlert(RedisConnection& redis, const KeyLayout& layout, int i) {
  alliance::v1::Alert alert;
  alert.set_alert_id(absl::StrCat("bench-", i));
  alert.set_tenant_id("bench");
  alert.set_therapist_id(absl::StrCat("t", i % 13));
  alert.set_client_id(absl::StrCat("c", i % 97));
  alert.set_kind(alliance::v1::ALERT_KIND_RUPTURE);
  alert.set_severity(alliance::v1::SEVERITY_HIGH);
  alert.set_instrument_id("srs");
  *alert.mutable_detected_at() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(NowMicros());
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(alert, &json);
  const int p = layout.PartitionOf("bench", alert.therapist_id(), alert.client_id());
  return redis
      .Command({"XADD", layout.AlertStream(p), "*", "v", "1", "tenant", "bench", "therapist",
                alert.therapist_id(), "client", alert.client_id(), "alert_id", alert.alert_id(),
                "kind", "rupture", "severity", "high", "alert", json})
      .status();
}

}  // namespace alliance::bench
