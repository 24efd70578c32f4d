// Builders of ratings for the analytics tests: a rating from its item answers, or from a
// target total spread evenly over the items (so the tests read as series of totals).
#ifndef ALLIANCE_TESTS_ANALYTICS_RATING_BUILDERS_H_
#define ALLIANCE_TESTS_ANALYTICS_RATING_BUILDERS_H_

#include <cmath>
#include <string>
#include <vector>

#include "analytics/dyad_analysis.h"

namespace alliance::analytics::testing {

inline const DyadKey kDyad{"tenant-a", "therapist-1", "client-1"};

inline std::string RatingId(int session, Rater rater, const std::string& instrument) {
  return "s" + std::to_string(session) + "-" + std::string(RaterName(rater)) + "-" + instrument;
}

inline Rating MakeRating(int session, Rater rater, std::string instrument,
                         std::vector<double> answers) {
  Rating r;
  r.rating_id = RatingId(session, rater, instrument);
  r.session_number = session;
  r.session_time_ms = 1'700'000'000'000 + int64_t{session} * 604'800'000;  // weekly
  r.rater = rater;
  r.instrument_id = std::move(instrument);
  r.answers = std::move(answers);
  return r;
}

// SRS with total `total` (0..40, 0.1 steps): three items of floor(total/4) tenths, the rest
// on item 4 (the overall item).
inline Rating Srs(int session, double total) {
  int tenths = static_cast<int>(std::lround(total * 10));
  int base = tenths / 4;
  int last = tenths - 3 * base;
  return MakeRating(session, Rater::kClient, "srs",
                    {base / 10.0, base / 10.0, base / 10.0, last / 10.0});
}

// WAI-SR (client) or WAI-SR-T (therapist) with integer total 12..60: items base or base+1.
inline Rating Wai(int session, int total, Rater rater = Rater::kClient) {
  std::vector<double> answers(12, total / 12);
  for (int i = 0; i < total % 12; ++i) answers[static_cast<size_t>(i)] += 1;
  return MakeRating(session, rater, rater == Rater::kClient ? "wai-sr" : "wai-sr-t", answers);
}

inline std::vector<Rating> SrsSeries(const std::vector<double>& totals) {
  std::vector<Rating> out;
  for (size_t i = 0; i < totals.size(); ++i) out.push_back(Srs(static_cast<int>(i) + 1, totals[i]));
  return out;
}

inline std::vector<Rating> WaiSeries(const std::vector<int>& totals, Rater rater = Rater::kClient) {
  std::vector<Rating> out;
  for (size_t i = 0; i < totals.size(); ++i) {
    out.push_back(Wai(static_cast<int>(i) + 1, totals[i], rater));
  }
  return out;
}

}  // namespace alliance::analytics::testing

#endif  // ALLIANCE_TESTS_ANALYTICS_RATING_BUILDERS_H_
