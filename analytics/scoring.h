// Validation and scoring of one rating against its instrument: totals and subscales in native
// units and as percent of maximum possible (POMP, 0-100), with reverse scoring, and the items
// worth a check-in (item flags, information only).
#ifndef ALLIANCE_ANALYTICS_SCORING_H_
#define ALLIANCE_ANALYTICS_SCORING_H_

#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "analytics/instrument.h"

namespace alliance::analytics {

struct Answer {
  int item = 0;  // 1-based
  double value = 0;
};

struct SubscaleScore {
  std::string name;
  double score = 0;
  double pomp = 0;

  bool operator==(const SubscaleScore&) const = default;
};

// An item whose score is at or below the instrument's item_check_below: worth a check-in at
// the next session, never an alert by itself. Carries the item number and its score, never text.
struct FlaggedItem {
  int item = 0;  // 1-based
  // The item's score after reverse scoring (the answer itself for an item that is not
  // reversed): a low score is what signals trouble, whichever way the item was worded.
  double value = 0;
  double check_value = 0;  // the instrument's item_check_below

  bool operator==(const FlaggedItem&) const = default;
};

struct Score {
  double total = 0;
  double pomp = 0;
  std::vector<SubscaleScore> subscales;  // in definition order
  // Items at or below item_check_below, in item order; empty when the instrument sets none.
  std::vector<FlaggedItem> flagged_items;

  bool operator==(const Score&) const = default;
};

// Checks answers as submitted: every item exactly once, each inside the scale and on its step.
// INVALID_ARGUMENT names the field, e.g. "answers[2].value: 7 is outside 1..5 for item 3".
absl::Status ValidateAnswers(const Instrument& instrument, std::span<const Answer> answers);

// Empty when `value` is a valid answer to an item of `instrument` (inside its range, on its
// step within a millionth of a step); otherwise why not, e.g. "11 is outside 0..10".
std::string AnswerProblem(const Instrument& instrument, double value);

// Orders validated answers by item: result[i] is item i+1.
std::vector<double> AnswersByItem(const Instrument& instrument, std::span<const Answer> answers);

// Scores answers given by item (size == item_count), and flags the items whose score is at or
// below the instrument's item_check_below. INVALID_ARGUMENT when they do not fit.
absl::StatusOr<Score> ScoreAnswers(const Instrument& instrument,
                                   std::span<const double> answers_by_item);

// Percent of maximum possible for a total of `instrument`.
double TotalPomp(const Instrument& instrument, double total);

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_SCORING_H_
