// Therapist summaries (therapist_summary.h): contributions, their sums, and the figures with
// shrinkage and intervals. Formulas and sources in docs/analytics.md ("Therapist summaries").
#include "analytics/therapist_summary.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace alliance::analytics {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;
constexpr double kZ975 = 1.959963984540054;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t Milli(double v) { return std::llround(v * 1000); }

int PompBin(double pomp) {
  return std::clamp(static_cast<int>(std::floor(pomp)), 0, kPompBins - 1);
}

double BinValue(int bin) { return bin == kPompBins - 1 ? 100.0 : bin + 0.5; }

// Continued fraction of the incomplete beta (Numerical Recipes, betacf), bounded.
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 300; ++m) {
    const int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < 1e-15) break;
  }
  return h;
}

int64_t InWindow(const std::map<int64_t, int64_t>& by_day, int64_t first_day) {
  int64_t n = 0;
  for (auto it = by_day.lower_bound(first_day); it != by_day.end(); ++it) n += it->second;
  return n;
}

Figure Count(int64_t n) { return {n, double(n), double(n), double(n), double(n), true}; }

Figure Scaled(Figure f, double by) {
  f.raw *= by;
  f.shrunken *= by;
  f.low *= by;
  f.high *= by;
  return f;
}

}  // namespace

DyadContribution ContributionOf(const DyadAnalysis& analysis) {
  DyadContribution c;
  // The latest rated session is the highest session number (points are in session order):
  // its latest session time, found from the end without walking the whole history.
  if (!analysis.points.empty()) {
    const int last = analysis.points.back().session_number;
    int64_t latest_ms = analysis.points.back().session_time_ms;
    for (auto it = analysis.points.rbegin(); it != analysis.points.rend(); ++it) {
      if (it->session_number != last) break;
      latest_ms = std::max(latest_ms, it->session_time_ms);
    }
    c.latest_day = FloorDiv(latest_ms, kMsPerDay);
  }
  c.at_risk = analysis.at_risk;
  c.rated_sessions = static_cast<int64_t>(analysis.points.size());
  int last_client_session = 0;
  double pomp_sum = 0;
  int pomp_count = 0;
  for (const SeriesPicture& s : analysis.series) {
    c.ruptures += s.rupture_count;
    if (s.rater != Rater::kClient || s.session_count == 0) continue;
    if (s.last_session_number > last_client_session) {
      last_client_session = s.last_session_number;
      pomp_sum = 0;
      pomp_count = 0;
    }
    if (s.last_session_number == last_client_session) {
      pomp_sum += s.latest_pomp;
      ++pomp_count;
    }
  }
  if (pomp_count > 0) {
    c.has_client_pomp = true;
    c.latest_client_pomp = pomp_sum / pomp_count;
  }
  // Episodes by their opening rupture's id: escalated, then (or not) repaired.
  struct Episode {
    std::string_view id;
    bool escalated = false, repaired = false;
  };
  std::vector<Episode> episodes;
  for (const AlertEvent& e : analysis.alerts) {
    if (e.kind != AlertKind::kRepaired && e.kind != AlertKind::kUnrepaired) continue;
    auto it = std::find_if(episodes.begin(), episodes.end(),
                           [&](const Episode& x) { return x.id == e.episode_id; });
    if (it == episodes.end()) it = episodes.insert(episodes.end(), Episode{e.episode_id});
    (e.kind == AlertKind::kRepaired ? it->repaired : it->escalated) = true;
  }
  for (const Episode& e : episodes) {
    if (e.escalated) {
      ++c.repair_decided;
    } else if (e.repaired) {
      ++c.repaired_in_window;
      ++c.repair_decided;
    }
  }
  if (analysis.gap && analysis.gap->sessions_compared > 0) {
    c.has_gap = true;
    c.mean_gap_pomp = analysis.gap->mean_gap_pomp;
  }
  return c;
}

std::vector<std::pair<std::string, int64_t>> ContributionFields(const DyadContribution& c) {
  std::vector<std::pair<std::string, int64_t>> f;
  f.reserve(12);
  f.emplace_back("dyads", 1);
  if (c.latest_day >= 0) {
    f.emplace_back(absl::StrCat("day:", c.latest_day), 1);
    if (c.at_risk) f.emplace_back(absl::StrCat("risk:", c.latest_day), 1);
  }
  auto add = [&f](const char* name, int64_t v) {
    if (v != 0) f.emplace_back(name, v);
  };
  add("sessions", c.rated_sessions);
  add("ruptures", c.ruptures);
  add("repaired", c.repaired_in_window);
  add("decided", c.repair_decided);
  if (c.has_client_pomp) f.emplace_back(absl::StrCat("pomp:", PompBin(c.latest_client_pomp)), 1);
  if (c.has_gap) {
    const int64_t g = Milli(c.mean_gap_pomp);
    f.emplace_back("gap_n", 1);
    add("gap_sum", g);
    add("gap_sq", g * g);
  }
  return f;
}

absl::Status SummaryCounts::AddField(std::string_view field, std::string_view value) {
  auto parse = [](std::string_view text, int64_t* out) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, *out);
    return !text.empty() && ec == std::errc() && ptr == end;
  };
  int64_t v = 0;
  if (!parse(value, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("summary field ", std::string(field), ": not an integer"));
  }
  // "<prefix><integer>"
  auto suffix = [&](std::string_view prefix, int64_t* n) {
    return field.starts_with(prefix) && parse(field.substr(prefix.size()), n);
  };
  int64_t k = 0;
  if (field == "dyads") {
    dyads += v;
  } else if (field == "sessions") {
    rated_sessions += v;
  } else if (field == "ruptures") {
    ruptures += v;
  } else if (field == "repaired") {
    repaired_in_window += v;
  } else if (field == "decided") {
    repair_decided += v;
  } else if (field == "gap_n") {
    gap_n += v;
  } else if (field == "gap_sum") {
    gap_sum_milli += v;
  } else if (field == "gap_sq") {
    gap_sq_micro += v;
  } else if (suffix("day:", &k)) {
    dyads_by_day[k] += v;
  } else if (suffix("risk:", &k)) {
    at_risk_by_day[k] += v;
  } else if (suffix("pomp:", &k) && k >= 0 && k < kPompBins) {
    pomp_bins[static_cast<size_t>(k)] += v;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown summary field ", std::string(field)));
  }
  return absl::OkStatus();
}

void SummaryCounts::Add(const SummaryCounts& o) {
  dyads += o.dyads;
  for (const auto& [d, n] : o.dyads_by_day) dyads_by_day[d] += n;
  for (const auto& [d, n] : o.at_risk_by_day) at_risk_by_day[d] += n;
  rated_sessions += o.rated_sessions;
  ruptures += o.ruptures;
  repaired_in_window += o.repaired_in_window;
  repair_decided += o.repair_decided;
  for (size_t i = 0; i < pomp_bins.size(); ++i) pomp_bins[i] += o.pomp_bins[i];
  gap_n += o.gap_n;
  gap_sum_milli += o.gap_sum_milli;
  gap_sq_micro += o.gap_sq_micro;
}

double RegularizedBeta(double x, double a, double b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1 - front * BetaContinuedFraction(b, a, 1 - x) / b;
}

double BetaQuantile(double p, double a, double b) {
  double lo = 0, hi = 1;
  for (int i = 0; i < 100; ++i) {  // bisection: 2^-100, far below any printed digit
    const double mid = (lo + hi) / 2;
    (RegularizedBeta(mid, a, b) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

double T975(int64_t df) {
  static constexpr double kTable[] = {
      12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
      2.2010,  2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
      2.0796,  2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423};
  if (df < 1) df = 1;
  if (df <= 30) return kTable[df - 1];
  // Cornish-Fisher expansion of t in powers of 1/df (Abramowitz & Stegun 26.7.5).
  const double z = kZ975, d = static_cast<double>(df);
  const double g1 = (std::pow(z, 3) + z) / 4;
  const double g2 = (5 * std::pow(z, 5) + 16 * std::pow(z, 3) + 3 * z) / 96;
  return z + g1 / d + g2 / (d * d);
}

Figure ShrunkProportion(int64_t x, int64_t n, double p0, double m) {
  Figure f;
  f.n = n;
  f.defined = n > 0;
  if (n + m <= 0) return f;
  f.raw = n > 0 ? double(x) / double(n) : 0;
  f.shrunken = (double(x) + m * p0) / (double(n) + m);
  const double a = std::max(double(x) + m * p0, 0.5);
  const double b = std::max(double(n - x) + m * (1 - p0), 0.5);
  f.low = BetaQuantile(0.025, a, b);
  f.high = BetaQuantile(0.975, a, b);
  return f;
}

Figure ShrunkMean(int64_t n, double sum, double sum_sq, double mu0, double k, double s_fallback) {
  Figure f;
  f.n = n;
  f.defined = n > 0;
  if (n <= 0) {
    f.shrunken = mu0;
    return f;
  }
  const double dn = double(n);
  f.raw = sum / dn;
  const double s =
      n >= 2 ? std::sqrt(std::max(0.0, (sum_sq - dn * f.raw * f.raw) / (dn - 1))) : s_fallback;
  const double w = dn / (dn + k);
  f.shrunken = w * f.raw + (1 - w) * mu0;
  const double half = T975(n - 1) * s / std::sqrt(dn + k);
  f.low = f.shrunken - half;
  f.high = f.shrunken + half;
  return f;
}

Figure HistogramMedian(const std::array<int64_t, kPompBins>& bins) {
  Figure f;
  int64_t n = 0;
  for (int64_t b : bins) n += b;
  f.n = n;
  if (n <= 0) return f;
  f.defined = true;
  auto at_rank = [&bins](int64_t rank) {  // 1-based
    int64_t seen = 0;
    for (int b = 0; b < kPompBins; ++b) {
      seen += bins[static_cast<size_t>(b)];
      if (seen >= rank) return BinValue(b);
    }
    return 100.0;
  };
  f.raw = n % 2 == 1 ? at_rank((n + 1) / 2) : (at_rank(n / 2) + at_rank(n / 2 + 1)) / 2;
  f.shrunken = f.raw;
  // Ranks of the distribution-free interval (binomial with p = 1/2, normal approximation).
  const double half = kZ975 / 2 * std::sqrt(double(n));
  const int64_t j = std::max<int64_t>(1, static_cast<int64_t>(std::floor(n / 2.0 - half)));
  const int64_t k = std::min<int64_t>(n, static_cast<int64_t>(std::ceil(n / 2.0 + 1 + half)));
  f.low = at_rank(j);
  f.high = at_rank(k);
  return f;
}

SummaryFigures Summarize(const SummaryCounts& own, const SummaryCounts* tenant,
                         const SummaryRules& rules, int64_t today) {
  const int64_t first_day = today - rules.active_days;
  SummaryFigures base;  // the tenant's, when shrinking
  if (tenant != nullptr) base = Summarize(*tenant, nullptr, rules, today);
  const double kd = tenant != nullptr ? rules.prior_dyads : 0;
  const double ks = tenant != nullptr ? rules.prior_sessions : 0;
  SummaryFigures s;
  s.dyads = own.dyads;
  const int64_t active = InWindow(own.dyads_by_day, first_day);
  s.active_dyads = Count(active);
  s.at_risk_share = ShrunkProportion(InWindow(own.at_risk_by_day, first_day), active,
                                     base.at_risk_share.shrunken, kd);
  s.ruptures_per_100 = Scaled(
      ShrunkProportion(own.ruptures, own.rated_sessions, base.ruptures_per_100.shrunken / 100, ks),
      100);
  s.repaired_share = ShrunkProportion(own.repaired_in_window, own.repair_decided,
                                      base.repaired_share.shrunken, kd);
  s.median_client_pomp = HistogramMedian(own.pomp_bins);
  if (tenant != nullptr && base.median_client_pomp.defined) {
    const double n = double(s.median_client_pomp.n);
    const double w = n / (n + kd);
    s.median_client_pomp.shrunken =
        w * s.median_client_pomp.raw + (1 - w) * base.median_client_pomp.raw;
  }
  double tenant_sd = 0;
  if (tenant != nullptr && tenant->gap_n >= 2) {
    const double n = double(tenant->gap_n), mean = tenant->gap_sum_milli / 1e3 / n;
    tenant_sd = std::sqrt(std::max(0.0, (tenant->gap_sq_micro / 1e6 - n * mean * mean) / (n - 1)));
  }
  s.mean_gap_pomp = ShrunkMean(own.gap_n, own.gap_sum_milli / 1e3, own.gap_sq_micro / 1e6,
                               base.mean_gap_pomp.raw, kd, tenant_sd);
  return s;
}

}  // namespace alliance::analytics
