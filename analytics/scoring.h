// Validation and scoring of one rating against its instrument: totals and subscales in native
// units and as percent of maximum possible (POMP, 0-100), with reverse scoring.
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

struct Score {
  double total = 0;
  double pomp = 0;
  std::vector<SubscaleScore> subscales;  // in definition order

  bool operator==(const Score&) const = default;
};

// Checks answers as submitted: every item exactly once, each inside the scale and on its step.
// INVALID_ARGUMENT names the field, e.g. "answers[2].value: 7 is outside 1..5 for item 3".
absl::Status ValidateAnswers(const Instrument& instrument, std::span<const Answer> answers);

// Orders validated answers by item: result[i] is item i+1.
std::vector<double> AnswersByItem(const Instrument& instrument, std::span<const Answer> answers);

// Scores answers given by item (size == item_count). INVALID_ARGUMENT when they do not fit.
absl::StatusOr<Score> ScoreAnswers(const Instrument& instrument,
                                   std::span<const double> answers_by_item);

// Percent of maximum possible for a total of `instrument`.
double TotalPomp(const Instrument& instrument, double total);

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_SCORING_H_
