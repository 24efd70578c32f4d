// The sample cohort is what the demo shows: it must be deterministic, valid for its
// instruments, and, run through the analytics library, show every kind of alert, while its
// stable dyads stay quiet and the client-therapist gap shows as information only.
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "analytics/dyad_analysis.h"
#include "analytics/scoring.h"
#include "gtest/gtest.h"
#include "tools/cohort/cohort.h"

namespace alliance::cohort {
namespace {

using analytics::AlertKind;
using analytics::Reason;

analytics::Rater RaterOf(const std::string& name) {
  if (name == "client") return analytics::Rater::kClient;
  if (name == "therapist") return analytics::Rater::kTherapist;
  return analytics::Rater::kObserver;
}

struct DyadRun {
  std::string scenario;
  analytics::DyadAnalysis analysis;
  int sessions = 0;
};

std::map<std::string, DyadRun> AnalyzeCohort(const std::vector<SampleRating>& ratings) {
  const auto& registry = analytics::InstrumentRegistry::BuiltIn();
  std::map<std::string, std::vector<analytics::Rating>> histories;
  std::map<std::string, DyadRun> runs;
  for (const SampleRating& r : ratings) {
    analytics::Rating rating;
    rating.rating_id = r.idempotency_id;
    rating.session_number = r.session_number;
    rating.session_time_ms = absl::ToUnixMillis(r.session_time);
    rating.rater = RaterOf(r.rater);
    rating.instrument_id = r.instrument_id;
    rating.answers = r.answers;
    histories[r.client_id].push_back(rating);
    runs[r.client_id].scenario = r.scenario;
    runs[r.client_id].sessions = std::max(runs[r.client_id].sessions, r.session_number);
  }
  for (auto& [client, history] : histories) {
    analytics::DyadKey key{"demo-clinic", "th", client};
    runs[client].analysis = analytics::AnalyzeDyad(registry, analytics::RuleConfig{}, key, history);
  }
  return runs;
}

TEST(SampleCohortTest, IsDeterministicAndSized) {
  const auto& registry = analytics::InstrumentRegistry::BuiltIn();
  CohortOptions options;
  std::string a = ToCsv(GenerateCohort(registry, options));
  EXPECT_EQ(a, ToCsv(GenerateCohort(registry, options)));
  options.seed += 1;
  EXPECT_NE(a, ToCsv(GenerateCohort(registry, options)));

  std::map<std::string, int> sessions;
  std::set<std::string> raters;
  for (const SampleRating& r : GenerateCohort(registry, CohortOptions{})) {
    sessions[r.client_id] = std::max(sessions[r.client_id], r.session_number);
    raters.insert(r.rater);
  }
  EXPECT_EQ(sessions.size(), 40u);
  for (const auto& [client, n] : sessions) {
    EXPECT_GE(n, 10) << client;
    EXPECT_LE(n, 20) << client;
  }
  EXPECT_TRUE(raters.count("client") && raters.count("therapist"));
}

TEST(SampleCohortTest, EveryAnswerIsValidForItsInstrument) {
  const auto& registry = analytics::InstrumentRegistry::BuiltIn();
  for (const SampleRating& r : GenerateCohort(registry, CohortOptions{})) {
    const analytics::Instrument* instrument = registry.Find(r.instrument_id);
    ASSERT_NE(instrument, nullptr) << r.instrument_id;
    std::vector<analytics::Answer> answers;
    for (size_t i = 0; i < r.answers.size(); ++i) {
      answers.push_back({static_cast<int>(i) + 1, r.answers[i]});
    }
    EXPECT_TRUE(analytics::ValidateAnswers(*instrument, answers).ok()) << r.idempotency_id;
  }
}

TEST(SampleCohortTest, ShowsEveryAlertKindWhereItsScenarioSaysSo) {
  auto runs = AnalyzeCohort(GenerateCohort(analytics::InstrumentRegistry::BuiltIn(), {}));
  std::set<std::string> seen;
  for (const auto& [client, run] : runs) {
    std::set<std::string> kinds;
    for (const auto& alert : run.analysis.alerts) {
      if (alert.rater != analytics::Rater::kClient) continue;
      kinds.insert(alert.kind == AlertKind::kRupture    ? "rupture"
                   : alert.kind == AlertKind::kRepaired ? "repaired"
                                                        : "unrepaired");
      for (Reason reason : alert.rules_fired) {
        seen.insert(absl::StrCat("reason", static_cast<int>(reason)));
      }
    }
    seen.insert(kinds.begin(), kinds.end());
    if (run.scenario == "v-rupture-repaired" || run.scenario == "reliable-dip-repaired") {
      EXPECT_TRUE(kinds.count("rupture")) << client << " " << run.scenario;
      EXPECT_TRUE(kinds.count("repaired")) << client << " " << run.scenario;
      EXPECT_FALSE(kinds.count("unrepaired")) << client << " " << run.scenario;
    }
    if (run.scenario == "decline-unrepaired") {
      EXPECT_TRUE(kinds.count("rupture")) << client;
      EXPECT_TRUE(kinds.count("unrepaired")) << client;
      EXPECT_FALSE(kinds.count("repaired")) << client;
      EXPECT_TRUE(run.analysis.unrepaired) << client;
    }
    if (run.scenario == "ceiling-noise" || run.scenario == "client-therapist-gap") {
      EXPECT_TRUE(kinds.empty()) << client << " " << run.scenario << " raised a client alert";
    }
    if (run.scenario == "client-therapist-gap") {
      ASSERT_TRUE(run.analysis.gap.has_value()) << client;
      EXPECT_GT(run.analysis.gap->mean_gap_pomp, 30) << client;
    }
  }
  for (const char* expected : {"rupture", "repaired", "unrepaired"}) {
    EXPECT_TRUE(seen.count(expected)) << "no " << expected << " alert in the cohort";
  }
  for (Reason reason :
       {Reason::kBelowCutoff, Reason::kReliableDrop, Reason::kDeflection, Reason::kDecline}) {
    EXPECT_TRUE(seen.count(absl::StrCat("reason", static_cast<int>(reason))))
        << "no rupture for reason " << static_cast<int>(reason);
  }
}

}  // namespace
}  // namespace alliance::cohort
