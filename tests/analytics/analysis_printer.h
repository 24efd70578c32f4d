// Readable gtest output for DyadAnalysis, so a failed equality shows which field differs.
#ifndef ALLIANCE_TESTS_ANALYTICS_ANALYSIS_PRINTER_H_
#define ALLIANCE_TESTS_ANALYTICS_ANALYSIS_PRINTER_H_

#include <ostream>

#include "analytics/dyad_analysis.h"

namespace alliance::analytics {

inline void PrintTo(const AlertEvent& e, std::ostream* os) {
  *os << "{" << RaterName(e.rater) << "/" << e.instrument_id << " s" << e.session_number
      << " kind=" << static_cast<int>(e.kind) << " reason=" << static_cast<int>(e.reason)
      << " rule=" << e.evidence.rule << " before=" << e.evidence.before
      << " after=" << e.evidence.after << " stat=" << e.evidence.statistic
      << " sub=" << e.subscale_fell_most << " id=" << e.alert_id.substr(0, 8) << "}";
}

inline void PrintTo(const SeriesPicture& p, std::ostream* os) {
  *os << "{" << RaterName(p.rater) << "/" << p.instrument_id << " n=" << p.session_count
      << " last=" << p.last_session_number << " latest=" << p.latest << " ewma=" << p.ewma
      << " recent=" << p.recent_mean << " base=" << p.baseline << " slope=" << p.slope
      << " sd=" << p.within_sd << " trend=" << static_cast<int>(p.trend)
      << " ruptures=" << p.rupture_count << " repaired=" << p.repaired_count
      << " open=" << (p.open_rupture ? p.open_rupture->onset_session : 0) << "}";
}

inline void PrintTo(const DyadAnalysis& a, std::ostream* os) {
  *os << "\n  applied=" << a.ratings_applied << " open=" << a.open_ruptures
      << " at_risk=" << a.at_risk << " unrepaired=" << a.unrepaired;
  if (a.gap) {
    *os << " gap={" << a.gap->sessions_compared << ", " << a.gap->latest_gap_pomp << ", "
        << a.gap->mean_gap_pomp << "}";
  }
  for (const SeriesPicture& p : a.series) {
    *os << "\n  series ";
    PrintTo(p, os);
  }
  for (const AlertEvent& e : a.alerts) {
    *os << "\n  alert ";
    PrintTo(e, os);
  }
  *os << "\n  points=" << a.points.size() << "\n";
}

}  // namespace alliance::analytics

#endif  // ALLIANCE_TESTS_ANALYTICS_ANALYSIS_PRINTER_H_
