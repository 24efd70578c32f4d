// The sample cohort is what the demo shows: it must be deterministic, valid for its
// instruments, and, run through the analytics library, show every kind of alert, while its
// stable dyads stay quiet and the client-therapist gap and the item flags show as information
// only; each newer pattern (slow decline, a client who stops or pauses rating, a rupture
// followed by silence, item flags) is checked to look as its scenario says.
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "analytics/disengagement.h"
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
  std::map<int, std::set<std::string>> raters_by_session;  // session -> "client", "therapist"
  absl::Time last_rating = absl::InfinitePast();
  std::vector<analytics::AlertEvent> engagement;  // disengagement and reengaged events
};

// Disengagement as the worker evaluates it: after each session's ratings arrive (at that
// session's time), then once more at `now`, carrying the open episode along.
std::vector<analytics::AlertEvent> EvaluateEngagementOverTime(
    const analytics::DyadKey& key, const std::vector<analytics::Rating>& history, absl::Time now) {
  const auto& registry = analytics::InstrumentRegistry::BuiltIn();
  analytics::RuleConfig rules;
  std::vector<analytics::Rating> sorted = history;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return std::tie(a.session_number, a.session_time_ms) <
           std::tie(b.session_number, b.session_time_ms);
  });
  std::vector<analytics::AlertEvent> events;
  std::optional<analytics::OpenDisengagement> open;
  auto evaluate = [&](size_t prefix, int64_t now_ms) {
    std::span<const analytics::Rating> seen(sorted.data(), prefix);
    analytics::DyadAnalysis a = analytics::AnalyzeDyad(registry, rules, key, seen);
    analytics::EngagementEvaluation e =
        analytics::EvaluateEngagement(key, rules, analytics::EngagementOf(a), open, now_ms);
    events.insert(events.end(), e.events.begin(), e.events.end());
    open = e.open;
  };
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i + 1 < sorted.size() && sorted[i + 1].session_number == sorted[i].session_number) {
      continue;  // the session's other rating first
    }
    evaluate(i + 1, sorted[i].session_time_ms);
  }
  evaluate(sorted.size(), absl::ToUnixMillis(now));
  return events;
}

std::map<std::string, DyadRun> AnalyzeCohort(const std::vector<SampleRating>& ratings,
                                             absl::Time now = CohortOptions{}.last_session) {
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
    DyadRun& run = runs[r.client_id];
    run.scenario = r.scenario;
    run.sessions = std::max(run.sessions, r.session_number);
    run.raters_by_session[r.session_number].insert(r.rater);
    run.last_rating = std::max(run.last_rating, r.session_time);
  }
  for (auto& [client, history] : histories) {
    analytics::DyadKey key{"demo-clinic", "th", client};
    runs[client].analysis = analytics::AnalyzeDyad(registry, analytics::RuleConfig{}, key, history);
    runs[client].engagement = EvaluateEngagementOverTime(key, history, now);
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
  EXPECT_EQ(sessions.size(), 50u);
  auto runs = AnalyzeCohort(GenerateCohort(registry, CohortOptions{}));
  for (const auto& [client, n] : sessions) {
    // A dyad that falls silent after a rupture has six rated sessions.
    EXPECT_GE(n, runs[client].scenario == "rupture-then-silence" ? 6 : 10) << client;
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

// The client's totals in session order.
std::vector<double> ClientTotals(const DyadRun& run) {
  std::vector<double> totals;
  for (const auto& point : run.analysis.points) {
    if (point.rater == analytics::Rater::kClient) totals.push_back(point.score.total);
  }
  return totals;
}

TEST(SampleCohortTest, NewerPatternsLookAsTheirScenariosSay) {
  const auto& registry = analytics::InstrumentRegistry::BuiltIn();
  CohortOptions options;
  auto runs = AnalyzeCohort(GenerateCohort(registry, options));
  std::map<std::string, int> dyads_by_scenario;
  for (const auto& [client, run] : runs) {
    ++dyads_by_scenario[run.scenario];
    const analytics::DyadAnalysis& a = run.analysis;
    // Disengagement events by kind and reason, e.g. "disengagement/6" and "reengaged/6".
    std::vector<std::string> engagement;
    for (const auto& e : run.engagement) {
      engagement.push_back(
          absl::StrCat(e.kind == AlertKind::kDisengagement ? "disengagement" : "reengaged", "/",
                       static_cast<int>(e.reason)));
    }
    const std::string not_rating = absl::StrCat(static_cast<int>(Reason::kClientNotRating));
    const std::string silent = absl::StrCat(static_cast<int>(Reason::kNoRatingDuringRupture));
    if (run.scenario == "client-stops-rating") {
      EXPECT_EQ(engagement, std::vector<std::string>{"disengagement/" + not_rating}) << client;
    } else if (run.scenario == "client-pauses-rating") {
      EXPECT_EQ(engagement, (std::vector<std::string>{"disengagement/" + not_rating,
                                                      "reengaged/" + not_rating}))
          << client;
    } else if (run.scenario == "rupture-then-silence") {
      EXPECT_EQ(engagement, std::vector<std::string>{"disengagement/" + silent}) << client;
    } else {
      EXPECT_TRUE(engagement.empty()) << client << " " << run.scenario << ": " << engagement[0];
    }
    if (run.scenario == "slow-decline") {
      // Caught by the fall from the baseline, with no session-to-session fall that is a
      // reliable change even by the classic bound 1.96 * S_diff (6.65 WAI-SR points).
      const analytics::Instrument& wai = *registry.Find("wai-sr");
      double classic = 1.96 * wai.population_sd * std::sqrt(2.0) * std::sqrt(1 - wai.reliability);
      std::vector<double> totals = ClientTotals(run);
      for (size_t i = 1; i < totals.size(); ++i) {
        EXPECT_GT(totals[i] - totals[i - 1], -classic) << client << " session " << i + 1;
      }
      const analytics::AlertEvent* onset = nullptr;
      for (const auto& alert : a.alerts) {
        if (alert.rater == analytics::Rater::kClient && alert.kind == AlertKind::kRupture) {
          onset = &alert;
          break;
        }
      }
      if (onset == nullptr) {
        ADD_FAILURE() << client << ": the slow decline was not caught";
      } else {
        EXPECT_EQ(onset->reason, Reason::kDecline) << client;
        EXPECT_EQ(onset->evidence.rule, "decline_from_baseline") << client;
        for (Reason reason : onset->rules_fired) {
          EXPECT_NE(reason, Reason::kReliableDrop) << client;
          EXPECT_NE(reason, Reason::kDeflection) << client;
        }
        EXPECT_GE(onset->session_number, 9) << client << ": caught too early to be slow";
      }
    }
    if (run.scenario == "item-check-flags") {
      // Information only: flags on several sessions, no alert of any kind, not at risk.
      int flagged_sessions = 0;
      for (const auto& point : a.points) {
        if (point.rater != analytics::Rater::kClient) continue;
        if (!point.score.flagged_items.empty()) ++flagged_sessions;
        for (const auto& flag : point.score.flagged_items) {
          EXPECT_LE(flag.value, flag.check_value) << client;
          EXPECT_EQ(flag.check_value, 9) << client;
        }
      }
      EXPECT_GE(flagged_sessions, 3) << client;
      EXPECT_TRUE(a.alerts.empty()) << client << ": an item flag raised an alert";
      EXPECT_FALSE(a.at_risk) << client;
    }
    if (run.scenario == "client-stops-rating" || run.scenario == "client-pauses-rating") {
      // The therapist rates every session; the client misses the last four sessions (stops)
      // or sessions 8-10 and rates again from 11 (pauses).
      ASSERT_EQ(static_cast<int>(run.raters_by_session.size()), run.sessions) << client;
      std::vector<int> therapist_only;
      for (const auto& [session, raters] : run.raters_by_session) {
        EXPECT_TRUE(raters.count("therapist")) << client << " session " << session;
        if (!raters.count("client")) therapist_only.push_back(session);
      }
      if (run.scenario == "client-stops-rating") {
        std::vector<int> last_four;
        for (int n = run.sessions - 3; n <= run.sessions; ++n) last_four.push_back(n);
        EXPECT_EQ(therapist_only, last_four) << client;
      } else {
        EXPECT_EQ(therapist_only, (std::vector<int>{8, 9, 10})) << client;
        EXPECT_GE(run.sessions, 11) << client;
      }
      EXPECT_FALSE(a.at_risk) << client << ": the client's own ratings were steady";
    }
    if (run.scenario == "rupture-then-silence") {
      // A rupture at session 6, still open, then no rating from anyone for five weeks before
      // the cohort's last session day.
      EXPECT_EQ(run.sessions, 6) << client;
      EXPECT_EQ(a.open_ruptures >= 1, true) << client;
      bool client_rupture_at_6 = false;
      for (const auto& alert : a.alerts) {
        client_rupture_at_6 |= alert.rater == analytics::Rater::kClient &&
                               alert.kind == AlertKind::kRupture && alert.session_number == 6;
      }
      EXPECT_TRUE(client_rupture_at_6) << client;
      EXPECT_GE(options.last_session - run.last_rating, absl::Hours(24 * 28)) << client;
    }
  }
  for (const char* scenario : {"slow-decline", "item-check-flags", "client-stops-rating",
                               "client-pauses-rating", "rupture-then-silence"}) {
    EXPECT_GE(dyads_by_scenario[scenario], 2) << scenario;
  }
}

}  // namespace
}  // namespace alliance::cohort
