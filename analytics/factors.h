// The factor table: which factors of the therapeutic alliance (from the plain-language article
// the product grew from) a subscale points to, and a one-line suggested focus. Data, not code:
// the built-in table is analytics/factors.json, compiled in at build time.
#ifndef ALLIANCE_ANALYTICS_FACTORS_H_
#define ALLIANCE_ANALYTICS_FACTORS_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace alliance::analytics {

struct FactorEntry {
  std::vector<std::string> factors;  // e.g. "empathy and validation"
  std::string focus;                 // one line for the clinician

  bool operator==(const FactorEntry&) const = default;
};

class FactorTable {
 public:
  // Keys used by the analysis: the subscale factor keys of instrument definitions ("bond",
  // "goal", "task", "overall"), "overall" when no subscale fell, "repaired" for repairs.
  static constexpr std::string_view kOverall = "overall";
  static constexpr std::string_view kRepaired = "repaired";

  // analytics/factors.json.
  static const FactorTable& BuiltIn();

  // A JSON object {key: {"factors": [string...], "focus": string}}. It must define "overall"
  // and "repaired". Errors name the source and the field.
  static absl::StatusOr<FactorTable> Parse(std::string_view json, std::string_view source);

  // The entry for `key`, or the "overall" entry when the key is unknown.
  const FactorEntry& Find(std::string_view key) const;

 private:
  std::map<std::string, FactorEntry, std::less<>> by_key_;
};

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_FACTORS_H_
