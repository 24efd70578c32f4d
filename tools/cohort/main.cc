// alliance-sample-cohort: prints the synthetic sample cohort as CSV (the alliancectl submit
// format) so the demo and the tests feed realistic data through the real intake.
#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/civil_time.h"
#include "tools/cohort/cohort.h"

ABSL_FLAG(uint64_t, seed, 20261125, "Random seed; the same seed gives the same cohort.");
ABSL_FLAG(std::string, tenant, "demo-clinic", "Tenant id of every rating.");
ABSL_FLAG(int32_t, dyads, 50, "Number of therapist-client pairs.");
ABSL_FLAG(std::string, last_session, "2026-11-20",
          "Day (YYYY-MM-DD, UTC) after the dyads' last sessions: they end the day before, the "
          "earlier sessions a week apart. The demo passes today, so silences are as long as "
          "the cohort plans them on the services' clock.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Prints the sample cohort as CSV on stdout.");
  absl::ParseCommandLine(argc, argv);
  alliance::cohort::CohortOptions options;
  options.seed = absl::GetFlag(FLAGS_seed);
  options.tenant_id = absl::GetFlag(FLAGS_tenant);
  options.dyads = absl::GetFlag(FLAGS_dyads);
  if (options.dyads < 1 || options.dyads > 10000) {
    std::fprintf(stderr, "--dyads must be 1..10000\n");
    return 2;
  }
  absl::CivilDay day;
  if (!absl::ParseCivilTime(absl::GetFlag(FLAGS_last_session), &day)) {
    std::fprintf(stderr, "--last_session must be a day, YYYY-MM-DD\n");
    return 2;
  }
  options.last_session = absl::FromCivil(day, absl::UTCTimeZone());
  std::cout << alliance::cohort::ToCsv(alliance::cohort::GenerateCohort(
      alliance::analytics::InstrumentRegistry::BuiltIn(), options));
  return 0;
}
