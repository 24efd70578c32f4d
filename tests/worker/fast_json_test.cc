// Unit tests of the fast JSON printer: for every alert the analytics library raises over many
// generated dyads, and for hand-made edge cases (awkward doubles, timestamps with fractions,
// strings that need escaping, unknown enum numbers), the alert stream's JSON equals
// MessageToJsonString's, and the fast path is the one taken for ordinary alerts.
#include "worker/fast_json.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "analytics/registry.h"
#include "worker/dyad_update.h"
#include "worker/record_convert.h"

namespace alliance::worker {
namespace {

std::string LibraryJson(const alliance::v1::Alert& alert) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(alert, &json, options).ok());
  return json;
}

// Alerts of many dyads whose client ratings rupture, decline, recover or stay high.
std::vector<alliance::v1::Alert> GeneratedAlerts() {
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 0.6);
  std::vector<alliance::v1::Alert> out;
  google::protobuf::Timestamp now;
  now.set_seconds(1800000000);
  now.set_nanos(123000000);
  for (int d = 0; d < 200; ++d) {
    analytics::DyadKey key{"tenant-a", absl::StrCat("th", d % 7), absl::StrCat("cl", d)};
    internal::v1::DyadRecord record;
    int onset = 4 + d % 6;
    for (int s = 1; s <= 16; ++s) {
      double level = 9.2;
      if (d % 3 == 0 && s == onset) level = 5.0;
      if (d % 3 == 1 && s >= onset) level = 9.2 - 0.9 * (s - onset + 1);
      double a = std::clamp(std::round((level + noise(rng)) * 10) / 10, 0.0, 10.0);
      DecodedFeedback f;
      f.stream_id = "1-1";
      f.dyad = key;
      f.rating.rating_id = absl::StrCat("r", d, ".", s);
      f.rating.session_number = s;
      f.rating.session_time_ms = 1704067200000 + int64_t{s} * 604800000 + 1;
      f.rating.rater = analytics::Rater::kClient;
      f.rating.instrument_id = "srs";
      f.rating.answers = {a, a, a, a};
      std::vector<DecodedFeedback> batch = {f};
      DyadUpdate u = UpdateDyad(analytics::InstrumentRegistry::BuiltIn(), analytics::RuleConfig{},
                                key, record, batch, now);
      out.insert(out.end(), u.new_alerts.begin(), u.new_alerts.end());
      record = u.record;
    }
  }
  return out;
}

TEST(FastJsonTest, EveryGeneratedAlertMatchesTheLibrary) {
  std::vector<alliance::v1::Alert> alerts = GeneratedAlerts();
  ASSERT_GT(alerts.size(), 100u);
  std::set<alliance::v1::AlertKind> kinds;
  for (const alliance::v1::Alert& alert : alerts) {
    kinds.insert(alert.kind());
    std::string fast;
    ASSERT_TRUE(AppendFastJson(alert, &fast)) << alert.DebugString();
    ASSERT_EQ(fast, LibraryJson(alert));
    EXPECT_EQ(AlertJson(alert), fast);
  }
  EXPECT_GE(kinds.size(), 2u);
}

TEST(FastJsonTest, AwkwardValuesMatchTheLibrary) {
  alliance::v1::Alert base;
  base.set_alert_id("a1");
  base.set_kind(alliance::v1::ALERT_KIND_RUPTURE);
  base.set_status(alliance::v1::ALERT_STATUS_OPEN);
  base.mutable_evidence();  // present but empty
  std::vector<double> doubles = {
      0.1,  1.0 / 3, -2.5,  1e21, 1e-7,          123456789012345678.0,
      -0.0, 5e-324,  1e300, 0.3,  2.0 / 3 * 100, std::numeric_limits<double>::max(),
      42.0};
  for (double v : doubles) {
    alliance::v1::Alert a = base;
    a.set_subscale_drop_pomp(v);
    a.mutable_evidence()->set_before(v);
    a.mutable_evidence()->set_statistic(-v);
    std::string fast;
    ASSERT_TRUE(AppendFastJson(a, &fast)) << v;
    EXPECT_EQ(fast, LibraryJson(a)) << v;
  }
  for (int nanos : {0, 1, 1000, 1000000, 120000000, 999999999}) {
    alliance::v1::Alert a = base;
    a.mutable_detected_at()->set_seconds(-1);
    a.mutable_detected_at()->set_nanos(nanos);
    a.mutable_session_time();  // present, epoch
    std::string fast;
    ASSERT_TRUE(AppendFastJson(a, &fast)) << nanos;
    EXPECT_EQ(fast, LibraryJson(a)) << nanos;
  }
  alliance::v1::Alert many = base;
  many.add_rules_fired(alliance::v1::REASON_CODE_UNSPECIFIED);
  many.add_rules_fired(static_cast<alliance::v1::ReasonCode>(1));
  many.add_factors("one");
  many.add_factors("");
  many.set_session_number(-3);
  std::string fast;
  ASSERT_TRUE(AppendFastJson(many, &fast));
  EXPECT_EQ(fast, LibraryJson(many));
}

TEST(FastJsonTest, WhatItDoesNotKnowIsLeftToTheLibrary) {
  alliance::v1::Alert a;
  a.set_alert_id("a1");
  for (std::string s : {"quote\"d", "back\\slash", "<b>", "caf\xc3\xa9", "tab\t", "a/b"}) {
    a.set_suggested_focus(s);
    std::string fast;
    EXPECT_FALSE(AppendFastJson(a, &fast)) << s;
    EXPECT_EQ(AlertJson(a), LibraryJson(a)) << s;
  }
  a.set_suggested_focus("plain");
  a.set_subscale_drop_pomp(std::numeric_limits<double>::infinity());
  std::string fast;
  EXPECT_FALSE(AppendFastJson(a, &fast));
  a.set_subscale_drop_pomp(1);
  a.set_kind(static_cast<alliance::v1::AlertKind>(77));  // unknown number
  fast.clear();
  EXPECT_FALSE(AppendFastJson(a, &fast));
  EXPECT_EQ(AlertJson(a), LibraryJson(a));
}

}  // namespace
}  // namespace alliance::worker
