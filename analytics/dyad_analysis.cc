// AnalyzeDyad and MakeAlertId (dyad_analysis.h). AnalyzeDyad loads the history into a
// DyadAnalyzer, so the batch and the incremental API share one implementation of every rule.
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
    case AlertKind::kDisengagement:
      return "disengagement";
    case AlertKind::kReengaged:
      return "reengaged";
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
  DyadAnalyzer analyzer(registry, rules, dyad);
  analyzer.AddAll(history);  // an empty analyzer loads the history in one pass per series
  return std::move(analyzer.analysis_);
}

}  // namespace alliance::analytics
