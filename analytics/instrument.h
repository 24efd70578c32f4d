// Instrument definitions as data: items, scale, reverse items, subscales, cutoffs and the
// psychometrics used for reliable change. Parsed from JSON; no I/O here (callers read files).
#ifndef ALLIANCE_ANALYTICS_INSTRUMENT_H_
#define ALLIANCE_ANALYTICS_INSTRUMENT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace alliance::analytics {

// Who fills in a form. Values match alliance.v1.Rater so conversions are a cast.
enum class Rater { kUnspecified = 0, kClient = 1, kTherapist = 2, kObserver = 3 };

// Whether a score equal to the cutoff value is already a concern.
enum class CutoffDirection { kBelow, kAtOrBelow };

struct Cutoff {
  double value = 0;
  CutoffDirection direction = CutoffDirection::kBelow;
  // True when `score` is on the concern side of the cutoff.
  bool IsConcern(double score) const;
};

struct Subscale {
  std::string name;        // e.g. "bond"
  std::vector<int> items;  // 1-based item numbers
  // Key into the factor table (see factors.h), e.g. "bond", "goal", "task", "overall".
  std::string factor;
  std::optional<Cutoff> cutoff;
};

struct Instrument {
  std::string id;             // registry key, e.g. "srs"
  std::string name;           // human name, e.g. "Session Rating Scale v3"
  std::vector<Rater> raters;  // who may fill it in
  int item_count = 0;
  double item_min = 0;
  double item_max = 0;
  double step = 1;                 // answers must be item_min + n * step
  std::vector<int> reverse_items;  // 1-based; scored as item_min + item_max - answer
  std::vector<Subscale> subscales;
  std::optional<Cutoff> total_cutoff;
  // Between-client SD of the total and its reliability (e.g. Cronbach's alpha), for the
  // Jacobson-Truax reliable change index and the k-SD deflection rule.
  double population_sd = 0;
  double reliability = 0;
  // An item answer below this is worth a check-in (SRS: ~9); informational only.
  std::optional<double> item_check_below;
  // Names of fields whose values are literature defaults marked "(check)": an operator should
  // confirm them for their population (replace the definition by id to change them).
  std::vector<std::string> check_fields;
  std::string references;  // free-text citation of the figures above

  double TotalMin() const { return item_min * item_count; }
  double TotalMax() const { return item_max * item_count; }
  bool AllowsRater(Rater rater) const;
};

// Lowercase name used in JSON and logs: "client", "therapist", "observer", "unspecified".
std::string_view RaterName(Rater rater);

// Parses one definition. Errors name `source` (a file name) and the offending field, e.g.
// "wai.json: field 'subscales[1].items[2]': item 13 is outside 1..12".
// Format (unknown keys are refused; see docs/analytics.md for the full description):
//   id, name, raters ["client"|"therapist"|"observer"], item_count, item_min, item_max, step,
//   reverse_items [int], subscales [{name, items [int], factor, cutoff?}],
//   total_cutoff? {value, direction "below"|"at_or_below"}, population_sd, reliability,
//   item_check_below?, check? [field names], references?
absl::StatusOr<Instrument> ParseInstrumentJson(std::string_view json, std::string_view source);

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_INSTRUMENT_H_
