// Scenario-driven generator of the sample cohort. Each dyad follows a planned path of
// percent-of-maximum scores per session; answers are drawn around that path, snapped to the
// instrument's scale and step. A splitmix/mt19937_64 stream with our own Gaussian keeps the
// output identical on every platform for a given seed.
#include "tools/cohort/cohort.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace alliance::cohort {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double Gaussian(double sd) {
    // Box-Muller; the standard distributions are implementation-defined, this is not.
    double u1 = std::max(Uniform(), 1e-12);
    double u2 = Uniform();
    return sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  int Between(int lo, int hi) { return lo + static_cast<int>(engine_() % (hi - lo + 1)); }

 private:
  std::mt19937_64 engine_;
};

// How much single items vary around the session's level, in POMP points.
constexpr double kItemSpreadPomp = 6.0;

enum class Scenario {
  kStable,
  kCeiling,
  kVRepaired,
  kDeclineUnrepaired,
  kGap,
  kReliableDip,
  kHaq,
  kSai,
  kSlowDecline,
  kClientStopsRating,
  kClientPausesRating,
  kRuptureThenSilence,
  kItemFlags
};

struct Plan {
  Scenario scenario;
  std::string name;
  std::string client_instrument;
  std::string therapist_instrument;  // empty: the therapist does not rate
  int min_sessions;
};

// Sessions at which the client does not rate while the therapist still does.
bool ClientSkips(Scenario s, int n, int sessions) {
  switch (s) {
    case Scenario::kClientStopsRating:
      return n > sessions - 4;  // the last four sessions rated by the therapist alone
    case Scenario::kClientPausesRating:
      return n >= 8 && n <= 10;  // three sessions without, then the client rates again
    default:
      return false;
  }
}

Plan PlanFor(int dyad_index) {
  // 50 dyads by default: mostly stable, with every situation represented at least twice.
  static const Scenario kCycle[] = {Scenario::kStable,
                                    Scenario::kCeiling,
                                    Scenario::kStable,
                                    Scenario::kVRepaired,
                                    Scenario::kStable,
                                    Scenario::kGap,
                                    Scenario::kCeiling,
                                    Scenario::kDeclineUnrepaired,
                                    Scenario::kStable,
                                    Scenario::kReliableDip,
                                    Scenario::kStable,
                                    Scenario::kCeiling,
                                    Scenario::kHaq,
                                    Scenario::kVRepaired,
                                    Scenario::kStable,
                                    Scenario::kGap,
                                    Scenario::kDeclineUnrepaired,
                                    Scenario::kCeiling,
                                    Scenario::kSai,
                                    Scenario::kStable,
                                    Scenario::kSlowDecline,
                                    Scenario::kClientStopsRating,
                                    Scenario::kItemFlags,
                                    Scenario::kRuptureThenSilence,
                                    Scenario::kClientPausesRating};
  Scenario s = kCycle[dyad_index % (sizeof kCycle / sizeof kCycle[0])];
  switch (s) {
    case Scenario::kStable:
      return {s, "stable", "srs", "wai-sr-t", 10};
    case Scenario::kCeiling:
      return {s, "ceiling-noise", "srs", "", 10};
    case Scenario::kVRepaired:
      return {s, "v-rupture-repaired", "srs", "wai-sr-t", 12};
    case Scenario::kDeclineUnrepaired:
      return {s, "decline-unrepaired", "wai-sr", "wai-sr-t", 15};
    case Scenario::kGap:
      return {s, "client-therapist-gap", "srs", "wai-sr-t", 10};
    case Scenario::kReliableDip:
      return {s, "reliable-dip-repaired", "wai-sr", "wai-sr-t", 12};
    case Scenario::kHaq:
      return {s, "stable-haq", "haq-ii", "", 10};
    case Scenario::kSai:
      return {s, "stable-sai", "sai", "", 10};
    case Scenario::kSlowDecline:
      return {s, "slow-decline", "wai-sr", "wai-sr-t", 18};
    case Scenario::kClientStopsRating:
      return {s, "client-stops-rating", "srs", "wai-sr-t", 12};
    case Scenario::kClientPausesRating:
      return {s, "client-pauses-rating", "srs", "wai-sr-t", 14};
    case Scenario::kRuptureThenSilence:
      return {s, "rupture-then-silence", "srs", "wai-sr-t", 10};
    case Scenario::kItemFlags:
      return {s, "item-check-flags", "srs", "", 12};
  }
  return {s, "stable", "srs", "", 10};
}

// Planned client POMP at session `n` (1-based) and the subscale that carries a dip, if any.
struct Target {
  double pomp;
  double noise_sd;            // POMP units, per item
  std::string weak_subscale;  // subscale pushed further down at a dip
  double weak_extra = 0;      // extra POMP drop of that subscale
  double floor_pomp = 0;      // the drawn total never goes below this (ceiling-bound scales)
};

Target ClientTarget(Scenario s, int n, double level) {
  switch (s) {
    case Scenario::kStable:
      return {level, 2.5, "", 0};
    case Scenario::kCeiling:
      return {level, 3.0, "", 0, 90.5};  // wanders 36.2-40 on SRS
    case Scenario::kVRepaired:
      if (n == 6) return {72, 1.0, "relationship", 12};  // sudden break in the bond
      if (n == 7) return {86, 1.0, "relationship", 4};
      return {n < 6 ? level : level + 1.5, 1.5, "", 0};  // back above the prior level
    case Scenario::kDeclineUnrepaired: {
      // Baseline, then a fall of ~4 POMP per session over six sessions, no recovery.
      double fall = std::clamp(n - 4, 0, 6) * 4.2;
      return {level - fall, 0.8, fall > 0 ? "goal" : "", fall > 0 ? 6.0 : 0};
    }
    case Scenario::kGap:
      return {level, 1.5, "", 0};
    case Scenario::kReliableDip:
      // A drop of about 15 WAI-SR points in one session: a reliable drop even at the strict
      // session-to-session z (3.7 * S_diff = 12.6 points).
      if (n == 7) return {level - 32, 0.8, "task", 8};
      if (n == 8) return {level - 6, 0.8, "task", 3};
      return {n < 7 ? level : level + 3, 1.0, "", 0};  // repaired above the prior level
    case Scenario::kHaq:
    case Scenario::kSai:
      return {level, 3.0, "", 0};
    case Scenario::kSlowDecline: {
      // Withdrawal: from session 5 the total sinks by ~1.25 WAI-SR points (2.6 POMP) a
      // session and never comes back. No step between sessions is a reliable change (the
      // classic bound is 6.65 points); the fall from the baseline becomes one after about
      // eight sessions, which only the decline rules can see.
      double fall = std::max(0, n - 4) * 2.6;
      return {level - fall, 0.8, fall > 0 ? "bond" : "", fall > 0 ? 3.0 : 0};
    }
    case Scenario::kClientStopsRating:
    case Scenario::kClientPausesRating:
      return {level, 1.2, "", 0};  // steady while the client rates
    case Scenario::kRuptureThenSilence:
      // A sudden break at the last rated session (session 6), then nobody rates any more.
      if (n == 6) return {70, 1.0, "relationship", 10};
      return {level, 1.5, "", 0};
    case Scenario::kItemFlags:
      // A steady total near 38 of 40, but the goals line keeps sitting around 9: a check-in
      // on goals at some sessions, never a rupture.
      return {level, 1.0, "goals", 9.0, 92.5};
  }
  return {level, 2.0, "", 0};
}

double ClientLevel(Scenario s, Rng& rng) {
  switch (s) {
    case Scenario::kStable:
      return 93 + rng.Uniform() * 4;
    case Scenario::kCeiling:
      return 95;
    case Scenario::kVRepaired:
      return 95 + rng.Uniform() * 2;
    case Scenario::kDeclineUnrepaired:
      return 82 + rng.Uniform() * 4;
    case Scenario::kGap:
      return 96 + rng.Uniform() * 2;
    case Scenario::kReliableDip:
      return 84 + rng.Uniform() * 4;
    case Scenario::kHaq:
      return 78 + rng.Uniform() * 6;
    case Scenario::kSai:
      return 80 + rng.Uniform() * 6;
    case Scenario::kSlowDecline:
      return 84 + rng.Uniform() * 4;
    case Scenario::kClientStopsRating:
    case Scenario::kClientPausesRating:
    case Scenario::kRuptureThenSilence:
      return 94 + rng.Uniform() * 3;
    case Scenario::kItemFlags:
      return 95 + rng.Uniform() * 1;
  }
  return 90;
}

double TherapistPomp(Scenario s, int n) {
  switch (s) {
    case Scenario::kGap:
      return 48;  // therapist far less positive than the client
    case Scenario::kDeclineUnrepaired:
      return 70 - std::clamp(n - 4, 0, 6) * 2.0;
    case Scenario::kVRepaired:
    case Scenario::kRuptureThenSilence:
      return n == 6 ? 58 : 72;
    case Scenario::kSlowDecline:
      return 72 - std::max(0, n - 4) * 0.8;  // the therapist notices less of it
    default:
      return 72;
  }
}

std::vector<double> DrawAnswers(const analytics::Instrument& instrument, const Target& target,
                                Rng& rng) {
  // Work in "steps above the minimum" of the scored (not reversed) scale. The total is drawn
  // first, around the planned level; the items then vary around it (the weak subscale lower)
  // and are rounded by largest remainder so that they add up to exactly that total.
  const int n = instrument.item_count;
  const double steps_per_item =
      std::round((instrument.item_max - instrument.item_min) / instrument.step);
  const double pomp_total =
      std::clamp(target.pomp + rng.Gaussian(target.noise_sd), target.floor_pomp, 100.0);
  const int total_steps = static_cast<int>(std::round(pomp_total / 100.0 * steps_per_item * n));

  std::vector<double> ideal(n);
  for (int item = 1; item <= n; ++item) {
    double pomp = target.pomp + rng.Gaussian(kItemSpreadPomp);
    for (const auto& subscale : instrument.subscales) {
      if (subscale.name == target.weak_subscale &&
          std::find(subscale.items.begin(), subscale.items.end(), item) != subscale.items.end()) {
        pomp -= target.weak_extra;
      }
    }
    ideal[item - 1] = pomp / 100.0 * steps_per_item;
  }
  double shift = (total_steps - std::accumulate(ideal.begin(), ideal.end(), 0.0)) / n;
  std::vector<int> units(n);
  std::vector<std::pair<double, int>> remainders;
  int assigned = 0;
  for (int i = 0; i < n; ++i) {
    double v = std::clamp(ideal[i] + shift, 0.0, steps_per_item);
    units[i] = static_cast<int>(std::floor(v));
    assigned += units[i];
    remainders.emplace_back(v - units[i], i);
  }
  std::sort(remainders.begin(), remainders.end(), std::greater<>());
  // Hand out the missing steps (or take back extra ones) without leaving the scale.
  for (int pass = 0; pass < 3 && assigned != total_steps; ++pass) {
    for (const auto& [remainder, i] : remainders) {
      if (assigned < total_steps && units[i] < steps_per_item) {
        ++units[i];
        ++assigned;
      } else if (assigned > total_steps && units[i] > 0) {
        --units[i];
        --assigned;
      }
    }
  }

  std::vector<double> answers(n);
  for (int i = 0; i < n; ++i) {
    double scored = instrument.item_min + units[i] * instrument.step;
    bool reverse = std::find(instrument.reverse_items.begin(), instrument.reverse_items.end(),
                             i + 1) != instrument.reverse_items.end();
    double answer = reverse ? instrument.item_min + instrument.item_max - scored : scored;
    answers[i] = std::round(answer * 1000) / 1000;  // no binary noise in the CSV
  }
  return answers;
}

}  // namespace

std::vector<SampleRating> GenerateCohort(const analytics::InstrumentRegistry& registry,
                                         const CohortOptions& options) {
  Rng rng(options.seed);
  std::vector<SampleRating> out;
  for (int d = 0; d < options.dyads; ++d) {
    Plan plan = PlanFor(d);
    const analytics::Instrument* client_form = registry.Find(plan.client_instrument);
    const analytics::Instrument* therapist_form =
        plan.therapist_instrument.empty() ? nullptr : registry.Find(plan.therapist_instrument);
    if (client_form == nullptr) continue;
    std::string therapist = absl::StrFormat("th-%02d", d / 5 + 1);
    std::string client = absl::StrFormat("cl-%03d", d + 1);
    int sessions = std::max(plan.min_sessions, rng.Between(10, 20));
    // Sessions with a rating from anyone; after them the dyad falls silent (dropout).
    int rated_sessions = sessions;
    if (plan.scenario == Scenario::kRuptureThenSilence) {
      // Six rated sessions, the last of them the rupture, then five weeks without a rating
      // from anyone by the cohort's last session day.
      sessions = 11;
      rated_sessions = 6;
    }
    double level = ClientLevel(plan.scenario, rng);
    absl::Duration offset = absl::Hours(rng.Between(8, 18)) + absl::Minutes(15 * rng.Between(0, 3));
    for (int n = 1; n <= rated_sessions; ++n) {
      absl::Time when =
          options.last_session - absl::Hours(24 * 7) * (sessions - n) + offset - absl::Hours(24);
      SampleRating base;
      base.tenant_id = options.tenant_id;
      base.therapist_id = therapist;
      base.client_id = client;
      base.session_id = absl::StrFormat("%s-s%02d", client, n);
      base.session_number = n;
      base.session_time = when;
      base.scenario = plan.name;

      if (!ClientSkips(plan.scenario, n, sessions)) {
        SampleRating client_rating = base;
        client_rating.rater = "client";
        client_rating.instrument_id = client_form->id;
        client_rating.idempotency_id = absl::StrCat(base.session_id, "-client");
        client_rating.answers =
            DrawAnswers(*client_form, ClientTarget(plan.scenario, n, level), rng);
        out.push_back(std::move(client_rating));
      }

      if (therapist_form != nullptr) {
        SampleRating therapist_rating = base;
        therapist_rating.rater = "therapist";
        therapist_rating.instrument_id = therapist_form->id;
        therapist_rating.idempotency_id = absl::StrCat(base.session_id, "-therapist");
        therapist_rating.answers =
            DrawAnswers(*therapist_form, Target{TherapistPomp(plan.scenario, n), 3.0, "", 0}, rng);
        out.push_back(std::move(therapist_rating));
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const SampleRating& a, const SampleRating& b) {
    return a.session_time < b.session_time;
  });
  return out;
}

std::string ToCsv(const std::vector<SampleRating>& ratings) {
  std::ostringstream csv;
  csv << "tenant_id,idempotency_id,therapist_id,client_id,session_id,session_number,"
         "session_time,rater,instrument_id,answers\n";
  for (const SampleRating& r : ratings) {
    csv << r.tenant_id << ',' << r.idempotency_id << ',' << r.therapist_id << ',' << r.client_id
        << ',' << r.session_id << ',' << r.session_number << ','
        << absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", r.session_time, absl::UTCTimeZone()) << ','
        << r.rater << ',' << r.instrument_id << ','
        << absl::StrJoin(
               r.answers, " ",
               [](std::string* s, double v) { absl::StrAppend(s, absl::StrFormat("%g", v)); })
        << '\n';
  }
  return csv.str();
}

}  // namespace alliance::cohort
