// Parsing of the therapist-summary rules (summary_rules.h), called by ParseRuleConfigJson.
#include "analytics/summary_rules.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "analytics/json_fields.h"

namespace alliance::analytics::internal {

absl::Status ReadSummaryRules(ObjectReader& r, SummaryRules* out) {
  if (absl::Status s = r.ReadInt("therapist_active_days", false, &out->active_days); !s.ok()) {
    return s;
  }
  if (out->active_days < 1 || out->active_days > 3650) {
    return FieldError(r.source(), "therapist_active_days",
                      absl::StrCat(out->active_days, " is outside 1..3650"));
  }
  for (auto [key, value, hi] :
       {std::tuple<const char*, double*, double>{"therapist_prior_dyads", &out->prior_dyads, 1000},
        {"therapist_prior_sessions", &out->prior_sessions, 100000}}) {
    if (absl::Status s = r.ReadNumber(key, false, value); !s.ok()) return s;
    if (*value < 0 || *value > hi) {
      return FieldError(r.source(), key, absl::StrCat(*value, " is outside [0, ", hi, "]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace alliance::analytics::internal
