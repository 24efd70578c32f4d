// Validation and scoring of one rating (scoring.h): scale and step checks, reverse scoring,
// totals and subscales in native units and as percent of maximum possible.
#include "analytics/scoring.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace alliance::analytics {
namespace {

// Answers may carry binary rounding noise (0.1 steps): accept within a millionth of a step.
constexpr double kStepTolerance = 1e-6;

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

std::string AnswerProblem(const Instrument& ins, double value) {
  if (!std::isfinite(value)) return "is not a finite number";
  double tolerance = kStepTolerance * ins.step;
  if (value < ins.item_min - tolerance || value > ins.item_max + tolerance) {
    return absl::StrCat(Fmt(value), " is outside ", Fmt(ins.item_min), "..", Fmt(ins.item_max));
  }
  double steps = (value - ins.item_min) / ins.step;
  if (std::fabs(steps - std::round(steps)) > kStepTolerance) {
    return absl::StrCat(Fmt(value), " is not on the scale's step of ", Fmt(ins.step));
  }
  return {};
}

namespace {

// Rounds to a millionth so that sums of 0.1-step answers equal the decimal a person would write
// (8.7 + 9.1 + 9.2 + 9.0 is exactly 36, not 35.99999999999999, at the cutoff).
double Tidy(double v) { return std::round(v * 1e6) / 1e6; }

double Pomp(double score, double lo, double hi) {
  double pomp = (score - lo) / (hi - lo) * 100.0;
  return std::clamp(pomp, 0.0, 100.0);
}

}  // namespace

absl::Status ValidateAnswers(const Instrument& ins, std::span<const Answer> answers) {
  std::vector<bool> seen(static_cast<size_t>(ins.item_count), false);
  for (size_t i = 0; i < answers.size(); ++i) {
    const Answer& a = answers[i];
    if (a.item < 1 || a.item > ins.item_count) {
      return absl::InvalidArgumentError(absl::StrCat("answers[", i, "].item: ", a.item,
                                                     " is outside 1..", ins.item_count,
                                                     " for instrument ", ins.id));
    }
    if (seen[static_cast<size_t>(a.item - 1)]) {
      return absl::InvalidArgumentError(
          absl::StrCat("answers[", i, "].item: item ", a.item, " is answered twice"));
    }
    seen[static_cast<size_t>(a.item - 1)] = true;
    if (std::string problem = AnswerProblem(ins, a.value); !problem.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("answers[", i, "].value: ", problem, " for item ", a.item));
    }
  }
  for (int item = 1; item <= ins.item_count; ++item) {
    if (!seen[static_cast<size_t>(item - 1)]) {
      return absl::InvalidArgumentError(
          absl::StrCat("answers: item ", item, " of instrument ", ins.id, " is missing"));
    }
  }
  return absl::OkStatus();
}

std::vector<double> AnswersByItem(const Instrument& ins, std::span<const Answer> answers) {
  std::vector<double> by_item(static_cast<size_t>(ins.item_count), ins.item_min);
  for (const Answer& a : answers) {
    if (a.item >= 1 && a.item <= ins.item_count) by_item[static_cast<size_t>(a.item - 1)] = a.value;
  }
  return by_item;
}

absl::StatusOr<Score> ScoreAnswers(const Instrument& ins, std::span<const double> answers) {
  if (answers.size() != static_cast<size_t>(ins.item_count)) {
    return absl::InvalidArgumentError(absl::StrCat("answers: ", answers.size(),
                                                   " answers given, instrument ", ins.id, " has ",
                                                   ins.item_count, " items"));
  }
  // Item scores after reverse scoring, snapped onto the step so sums carry no rounding noise.
  // A stack buffer for the usual short forms keeps scoring free of allocations but the result.
  constexpr size_t kInline = 64;
  std::array<double, kInline> inline_buffer;
  std::vector<double> heap_buffer;
  std::span<double> item_score;
  if (answers.size() <= kInline) {
    item_score = std::span<double>(inline_buffer.data(), answers.size());
  } else {
    heap_buffer.resize(answers.size());
    item_score = heap_buffer;
  }
  for (size_t i = 0; i < answers.size(); ++i) {
    if (std::string problem = AnswerProblem(ins, answers[i]); !problem.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("answers[", i, "]: ", problem, " for item ", i + 1));
    }
    double steps = std::round((answers[i] - ins.item_min) / ins.step);
    item_score[i] = Tidy(ins.item_min + steps * ins.step);
  }
  for (int item : ins.reverse_items) {
    double& v = item_score[static_cast<size_t>(item - 1)];
    v = Tidy(ins.item_min + ins.item_max - v);
  }
  Score score;
  for (double v : item_score) score.total += v;
  score.total = Tidy(score.total);
  score.pomp = Pomp(score.total, ins.TotalMin(), ins.TotalMax());
  score.subscales.reserve(ins.subscales.size());
  for (const Subscale& sub : ins.subscales) {
    SubscaleScore s;
    s.name = sub.name;
    for (int item : sub.items) s.score += item_score[static_cast<size_t>(item - 1)];
    s.score = Tidy(s.score);
    double n = static_cast<double>(sub.items.size());
    s.pomp = Pomp(s.score, ins.item_min * n, ins.item_max * n);
    score.subscales.push_back(std::move(s));
  }
  if (ins.item_check_below.has_value()) {
    // On the scored value: a reverse-scored item answered high scores low, and that is the
    // trouble sign. Scores sit on the step grid; the margin only absorbs binary noise.
    const double check = *ins.item_check_below;
    for (size_t i = 0; i < item_score.size(); ++i) {
      if (item_score[i] <= check + ins.step * 1e-6) {
        score.flagged_items.push_back({static_cast<int>(i) + 1, item_score[i], check});
      }
    }
  }
  return score;
}

double TotalPomp(const Instrument& ins, double total) {
  return Pomp(total, ins.TotalMin(), ins.TotalMax());
}

}  // namespace alliance::analytics
