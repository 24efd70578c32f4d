// Parsing of the rule configuration (rules.h). Each field has a documented default and a
// range; anything outside it is refused naming the file and the key.
#include "analytics/rules.h"

#include "absl/strings/str_cat.h"
#include "analytics/json_fields.h"
#include "analytics/summary_rules.h"

namespace alliance::analytics {
namespace {

using internal::FieldError;
using internal::ObjectReader;

absl::Status ReadInRange(ObjectReader& r, std::string_view key, double lo, double hi, bool lo_open,
                         double* out) {
  if (absl::Status s = r.ReadNumber(key, false, out); !s.ok()) return s;
  bool below = lo_open ? *out <= lo : *out < lo;
  if (below || *out > hi) {
    return FieldError(r.source(), key,
                      absl::StrCat(*out, " is outside ", lo_open ? "(" : "[", lo, ", ", hi, "]"));
  }
  return absl::OkStatus();
}

absl::Status ReadIntInRange(ObjectReader& r, std::string_view key, int lo, int hi, int* out) {
  if (absl::Status s = r.ReadInt(key, false, out); !s.ok()) return s;
  if (*out < lo || *out > hi) {
    return FieldError(r.source(), key, absl::StrCat(*out, " is outside ", lo, "..", hi));
  }
  return absl::OkStatus();
}

absl::Status ReadSeverity(ObjectReader& r, std::string_view key, Severity* out) {
  std::string name;
  if (!r.Has(key)) return absl::OkStatus();
  if (absl::Status s = r.ReadString(key, false, &name); !s.ok()) return s;
  if (name == "info") {
    *out = Severity::kInfo;
  } else if (name == "warning") {
    *out = Severity::kWarning;
  } else if (name == "high") {
    *out = Severity::kHigh;
  } else if (name == "critical") {
    *out = Severity::kCritical;
  } else {
    return FieldError(r.source(), key,
                      absl::StrCat("'", name, "' is not one of info, warning, high, critical"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RuleConfig> ParseRuleConfigJson(std::string_view text, std::string_view source) {
  absl::StatusOr<nlohmann::json> doc = internal::ParseJsonDocument(text, source);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) return FieldError(source, "(document)", "must be a JSON object");
  ObjectReader r(*doc, source, "");
  RuleConfig c;
  r.Has("$comment");
  absl::Status s;
  auto check = [&s](absl::Status next) {
    if (s.ok()) s = std::move(next);
  };
  check(ReadInRange(r, "ewma_alpha", 0, 1, true, &c.ewma_alpha));
  check(ReadIntInRange(r, "recent_window", 2, 100, &c.recent_window));
  check(ReadIntInRange(r, "baseline_sessions", 1, 100, &c.baseline_sessions));
  check(ReadInRange(r, "trend_fraction_of_rc", 0, 10, false, &c.trend_fraction_of_rc));
  check(r.ReadBool("below_cutoff_enabled", false, &c.below_cutoff_enabled));
  check(r.ReadBool("reliable_drop_enabled", false, &c.reliable_drop_enabled));
  check(ReadInRange(r, "reliable_change_z", 0, 10, true, &c.reliable_change_z));
  check(r.ReadBool("deflection_enabled", false, &c.deflection_enabled));
  check(ReadInRange(r, "deflection_k", 0, 10, true, &c.deflection_k));
  check(ReadInRange(r, "deflection_z", 0, 10, false, &c.deflection_z));
  check(ReadInRange(r, "within_sd_floor_fraction", 0, 1, false, &c.within_sd_floor_fraction));
  check(r.ReadBool("decline_enabled", false, &c.decline_enabled));
  check(ReadInRange(r, "cusum_slack", 0, 10, false, &c.cusum_slack));
  check(ReadInRange(r, "cusum_limit", 0, 100, true, &c.cusum_limit));
  check(ReadIntInRange(r, "decline_max_sessions", 2, 50, &c.decline_max_sessions));
  check(r.ReadBool("decline_from_baseline_enabled", false, &c.decline_from_baseline_enabled));
  check(ReadInRange(r, "decline_from_baseline_z", 0, 10, true, &c.decline_from_baseline_z));
  check(ReadIntInRange(r, "repair_window_sessions", 1, 100, &c.repair_window_sessions));
  check(ReadIntInRange(r, "disengagement_therapist_sessions_without_client", 0, 100,
                       &c.disengagement_therapist_sessions_without_client));
  check(ReadInRange(r, "disengagement_days_without_rating_open_rupture", 0, 365, false,
                    &c.disengagement_days_without_rating_open_rupture));
  check(ReadSeverity(r, "disengagement_severity", &c.disengagement_severity));
  check(internal::ReadSummaryRules(r, &c.summaries));
  check(r.RejectUnknown());
  if (!s.ok()) return s;
  return c;
}

}  // namespace alliance::analytics
