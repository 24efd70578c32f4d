// alliance-oc-benchmark: operating characteristics of the rupture rules. Simulates cohorts per
// built-in instrument (stable dyads under several noise models, and true patterns with known
// onsets), runs them through the analytics library as the worker does, and prints markdown
// tables: false change alerts per 100 stable dyads, and sensitivity, delay and repair
// detection per pattern, for each change rule alone and for the whole rule set.
// Deterministic for a given --seed; run by scripts/bench-alerts.sh (docs/analytics.md).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "analytics/registry.h"
#include "analytics/rules.h"
#include "tools/oc_benchmark/evaluation.h"
#include "tools/oc_benchmark/simulation.h"

ABSL_FLAG(uint64_t, seed, 20261201, "Benchmark seed; the same seed gives the same tables.");
ABSL_FLAG(int32_t, stable_dyads, 10000, "Stable dyads per instrument and noise model.");
ABSL_FLAG(int32_t, pattern_dyads, 2000, "Dyads per instrument and true pattern.");
ABSL_FLAG(std::string, rules_file, "", "Rule configuration (JSON); empty: the built-in defaults.");
ABSL_FLAG(std::string, title, "", "Heading printed above the tables.");

namespace alliance::oc {
namespace {

using analytics::InstrumentRegistry;
using analytics::RuleConfig;

std::string Label(const SeriesSpec& spec) {
  return absl::StrCat(spec.instrument_id, " (", std::string(analytics::RaterName(spec.rater)), ")");
}

std::string Per100(int count, int dyads) {
  return absl::StrFormat("%.2f", dyads > 0 ? 100.0 * count / dyads : 0.0);
}

std::string Share(int count, int dyads) {
  if (dyads == 0) return "-";
  return absl::StrFormat("%.1f%%", 100.0 * count / dyads);
}

struct StableCondition {
  NoiseModel noise;
  bool report_40;
};

void StableTable(const InstrumentRegistry& registry, const RuleConfig& rules, uint64_t seed,
                 int dyads, double* worst_all_rules_12) {
  const std::vector<StableCondition> conditions = {
      {{1.0, 0, "1.0x error"}, true},
      {{1.0, 0.2, "1.0x error, 20% missing"}, false},
      {{1.5, 0, "1.5x error"}, false},
      {{2.0, 0, "2.0x error"}, true},
  };
  std::vector<RuleVariant> variants = Variants(rules);
  std::printf("### False change alerts per 100 stable dyads\n\n");
  std::printf("| instrument (rater) | rule |");
  for (const StableCondition& c : conditions) {
    std::printf(" %s, 12 s |", c.noise.label.c_str());
    if (c.report_40) std::printf(" %s, 40 s |", c.noise.label.c_str());
  }
  std::printf(" below_cutoff (level) alerts, 1.0x, 12 s |\n|---|---|");
  for (const StableCondition& c : conditions) std::printf(c.report_40 ? "---|---|" : "---|");
  std::printf("---|\n");
  std::vector<SeriesSpec> specs = BuiltInSpecs();
  for (size_t s = 0; s < specs.size(); ++s) {
    const analytics::Instrument* ins = registry.Find(specs[s].instrument_id);
    for (size_t v = 0; v < variants.size(); ++v) {
      std::printf("| %s | %s |", Label(specs[s]).c_str(), variants[v].label.c_str());
      int level_alerts = 0;
      for (size_t c = 0; c < conditions.size(); ++c) {
        StableTally tally;
        for (int d = 0; d < dyads; ++d) {
          // The seed does not depend on the rule variant: every variant sees the same series.
          SimulatedSeries series = Simulate(*ins, specs[s], Pattern{}, conditions[c].noise, 40,
                                            MixSeed(seed, 1, s, c, static_cast<uint64_t>(d)));
          tally.Add(RunSeries(registry, variants[v].rules, series));
        }
        std::printf(" %s |", Per100(tally.change_alerts_12, tally.dyads).c_str());
        if (conditions[c].report_40) {
          std::printf(" %s |", Per100(tally.change_alerts_40, tally.dyads).c_str());
        }
        if (c == 0) level_alerts = tally.level_alerts_12;
        if (c == 0 && v == 0) {
          *worst_all_rules_12 =
              std::max(*worst_all_rules_12, 100.0 * tally.change_alerts_12 / tally.dyads);
        }
      }
      std::printf(" %s |\n", v == 0 ? Per100(level_alerts, dyads).c_str() : "");
    }
  }
  std::printf("\n");
}

void PatternTable(const InstrumentRegistry& registry, const RuleConfig& rules, uint64_t seed,
                  int dyads, int* deep_dyads, int* deep_caught) {
  std::vector<RuleVariant> variants = Variants(rules);
  std::printf(
      "### True patterns (noise 1.0x error): share caught, by each change rule alone and by "
      "all rules\n\n");
  std::printf("| instrument (rater) | pattern |");
  for (size_t v = 1; v < variants.size(); ++v)
    std::printf(" %s alone |", variants[v].label.c_str());
  std::printf(
      " all: false before onset /100 | all: at onset | all: caught | all: median delay | "
      "all: by the observed JT session | all: by the true JT session | all: repaired | "
      "all: escalated |\n|---|---|");
  for (size_t v = 1; v < variants.size(); ++v) std::printf("---|");
  std::printf("---|---|---|---|---|---|---|---|\n");
  std::vector<SeriesSpec> specs = BuiltInSpecs();
  std::vector<Pattern> patterns = BenchmarkPatterns();
  const NoiseModel noise{1.0, 0, "1.0x error"};
  for (size_t s = 0; s < specs.size(); ++s) {
    const analytics::Instrument* ins = registry.Find(specs[s].instrument_id);
    for (size_t p = 0; p < patterns.size(); ++p) {
      int sessions = patterns[p].kind == PatternKind::kSlowDecline ? 26 : 16;
      std::printf("| %s | %s |", Label(specs[s]).c_str(), patterns[p].label.c_str());
      std::vector<PatternTally> tallies(variants.size());
      for (int d = 0; d < dyads; ++d) {
        SimulatedSeries series = Simulate(*ins, specs[s], patterns[p], noise, sessions,
                                          MixSeed(seed, 2, s, p, static_cast<uint64_t>(d)));
        for (size_t v = 0; v < variants.size(); ++v) {
          tallies[v].Add(*ins, variants[v].rules, series,
                         RunSeries(registry, variants[v].rules, series));
        }
      }
      for (size_t v = 1; v < variants.size(); ++v) {
        std::printf(" %s |", Share(tallies[v].caught, tallies[v].dyads).c_str());
      }
      const PatternTally& all = tallies[0];
      bool decline = patterns[p].kind == PatternKind::kSlowDecline;
      bool repairs = patterns[p].kind == PatternKind::kVRepaired;
      double median = all.MedianDelay();
      std::printf(" %s | %s | %s | %s | %s | %s | %s | %s |\n",
                  Per100(all.early_alerts, all.dyads).c_str(),
                  Share(all.at_onset, all.dyads).c_str(), Share(all.caught, all.dyads).c_str(),
                  std::isnan(median) ? "-" : absl::StrFormat("%.0f", median).c_str(),
                  decline ? Share(all.by_jt, all.jt_dyads).c_str() : "",
                  decline ? Share(all.by_true_jt, all.true_jt_dyads).c_str() : "",
                  repairs ? Share(all.repaired, all.caught).c_str() : "",
                  repairs ? "" : Share(all.escalated, all.caught).c_str());
      if (!decline) {
        *deep_dyads += all.deep_dyads;
        *deep_caught += all.deep_at_onset;
      }
    }
  }
  std::printf("\n");
}

int Run() {
  const InstrumentRegistry& registry = InstrumentRegistry::BuiltIn();
  RuleConfig rules;
  std::string rules_file = absl::GetFlag(FLAGS_rules_file);
  if (!rules_file.empty()) {
    std::ifstream in(rules_file);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", rules_file.c_str());
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<RuleConfig> parsed = analytics::ParseRuleConfigJson(text.str(), rules_file);
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s\n", std::string(parsed.status().message()).c_str());
      return 2;
    }
    rules = *parsed;
  }
  int stable = absl::GetFlag(FLAGS_stable_dyads);
  int patterned = absl::GetFlag(FLAGS_pattern_dyads);
  if (stable < 1 || patterned < 1) {
    std::fprintf(stderr, "--stable_dyads and --pattern_dyads must be at least 1\n");
    return 2;
  }
  uint64_t seed = absl::GetFlag(FLAGS_seed);
  auto start = std::chrono::steady_clock::now();
  std::string title = absl::GetFlag(FLAGS_title);
  if (!title.empty()) std::printf("## %s\n\n", title.c_str());
  std::printf("Seed %llu, %d stable dyads per cell, %d per pattern, rules: %s.\n\n",
              static_cast<unsigned long long>(seed), stable, patterned,
              rules_file.empty() ? "built-in defaults" : rules_file.c_str());
  double worst = 0;
  StableTable(registry, rules, seed, stable, &worst);
  int deep_dyads = 0;
  int deep_caught = 0;
  PatternTable(registry, rules, seed, patterned, &deep_dyads, &deep_caught);
  std::printf(
      "Targets: worst false change alerts per 100 stable dyads over 12 sessions at 1.0x "
      "error, all rules: %.2f (target <= 1); drops observed at least 1.5 population SD below "
      "the running level at the onset, caught at that session: %d of %d.\n\n",
      worst, deep_caught, deep_dyads);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "done in %.1f s\n", seconds);
  return 0;
}

}  // namespace
}  // namespace alliance::oc

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Prints the operating characteristics of the rupture rules as markdown tables.");
  absl::ParseCommandLine(argc, argv);
  return alliance::oc::Run();
}
