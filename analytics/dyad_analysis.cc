// AnalyzeDyad and MakeAlertId (dyad_analysis.h). AnalyzeDyad puts the history into its
// canonical form (valid ratings, one per rating id, one winner per session, rater and
// instrument, in session order) and runs it through a DyadAnalyzer, so the batch and the
// incremental API share one implementation of every rule.
#include "analytics/dyad_analysis.h"

#include <algorithm>
#include <string>
#include <tuple>

#include "analytics/dyad_analyzer.h"
#include "analytics/hash.h"

namespace alliance::analytics {
namespace {

std::string_view KindName(AlertKind kind) {
  switch (kind) {
    case AlertKind::kRupture:
      return "rupture";
    case AlertKind::kRepaired:
      return "repaired";
    case AlertKind::kUnrepaired:
      return "unrepaired";
  }
  return "unknown";
}

}  // namespace

std::string MakeAlertId(const DyadKey& dyad, Rater rater, std::string_view instrument_id,
                        AlertKind kind, int session_number) {
  std::string session = std::to_string(session_number);
  return Hash128Hex({"alliance.alert.v1", dyad.tenant_id, dyad.therapist_id, dyad.client_id,
                     RaterName(rater), instrument_id, KindName(kind), session});
}

DyadAnalysis AnalyzeDyad(const InstrumentRegistry& registry, const RuleConfig& rules,
                         const DyadKey& dyad, std::span<const Rating> history) {
  struct Scored {
    const Rating* rating;
    Score score;
  };
  std::vector<Scored> valid;
  valid.reserve(history.size());
  for (const Rating& r : history) {
    const Instrument* ins = registry.Find(r.instrument_id);
    if (ins == nullptr || r.session_number < 1 || !ins->AllowsRater(r.rater)) continue;
    absl::StatusOr<Score> score = ScoreAnswers(*ins, r.answers);
    if (score.ok()) valid.push_back({&r, *std::move(score)});
  }
  // One rating per id (a redelivery repeats the same rating).
  std::sort(valid.begin(), valid.end(), [](const Scored& a, const Scored& b) {
    return a.rating->rating_id < b.rating->rating_id;
  });
  valid.erase(std::unique(valid.begin(), valid.end(),
                          [](const Scored& a, const Scored& b) {
                            return a.rating->rating_id == b.rating->rating_id;
                          }),
              valid.end());
  // Canonical order; within one session, rater and instrument the winner comes last.
  auto order = [](const Scored& s) {
    const Rating& r = *s.rating;
    return std::tie(r.session_number, r.rater, r.instrument_id, r.session_time_ms, r.rating_id);
  };
  std::sort(valid.begin(), valid.end(),
            [&order](const Scored& a, const Scored& b) { return order(a) < order(b); });

  DyadAnalyzer analyzer(registry, rules, dyad);
  for (size_t i = 0; i < valid.size(); ++i) {
    const Rating& r = *valid[i].rating;
    if (i + 1 < valid.size()) {
      const Rating& next = *valid[i + 1].rating;
      if (std::tie(next.session_number, next.rater, next.instrument_id) ==
          std::tie(r.session_number, r.rater, r.instrument_id)) {
        continue;  // superseded by a later rating of the same session
      }
    }
    analyzer.seen_ids_.insert(r.rating_id);
    analyzer.Apply(r, std::move(valid[i].score));
  }
  return std::move(analyzer.analysis_);
}

}  // namespace alliance::analytics
