// alliancectl: command-line client of Alliance for people and scripts. Submits feedback to
// FeedbackIntake and reads dyads and alerts from AllianceInsights.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "common/process.h"
#include "tools/alliancectl/commands.h"
#include "tools/alliancectl/ctl_flags.h"

ABSL_FLAG(std::string, intake, "localhost:50051", "FeedbackIntake address (host:port).");
ABSL_FLAG(std::string, insights, "localhost:50052", "AllianceInsights address (host:port).");
ABSL_FLAG(std::string, tenant, "", "Tenant to act for (required by every command).");
ABSL_FLAG(bool, json, false, "Print one JSON object per line instead of tables.");
ABSL_FLAG(int32_t, timeout_ms, 10000, "Deadline of every call, in ms (watch: of connecting).");
ABSL_FLAG(std::string, therapist, "", "Pseudonymous therapist id.");
ABSL_FLAG(std::string, client, "", "Pseudonymous client id.");
ABSL_FLAG(std::string, idempotency_id, "", "submit: caller-chosen id that makes retries safe.");
ABSL_FLAG(std::string, session_id, "", "submit: the caller's session id.");
ABSL_FLAG(int32_t, session_number, 0, "submit: 1-based session number.");
ABSL_FLAG(std::string, session_time, "", "submit: session time, RFC 3339.");
ABSL_FLAG(std::string, rater, "client", "submit: client, therapist or observer.");
ABSL_FLAG(std::string, instrument, "", "submit: instrument id, e.g. srs or wai-sr.");
ABSL_FLAG(std::string, answers, "", "submit: answers in item order, space separated.");
ABSL_FLAG(std::string, file, "", "submit: a .csv file or a JSON lines file of submissions.");
ABSL_FLAG(int32_t, chunk, 100, "submit: submissions per SubmitFeedbackBatch call.");
ABSL_FLAG(bool, at_risk, false, "dyads: only dyads at risk.");
ABSL_FLAG(bool, open_rupture, false, "dyads: only dyads with an open rupture.");
ABSL_FLAG(bool, unrepaired, false, "dyads: only dyads with an unrepaired rupture.");
ABSL_FLAG(int32_t, page_size, 50, "dyads, alerts: items per page.");
ABSL_FLAG(std::string, page_token, "", "dyads, alerts: continue from this page token.");
ABSL_FLAG(bool, all_pages, false, "dyads, alerts: follow page tokens to the end.");
ABSL_FLAG(std::string, min_severity, "", "alerts, watch: info, warning, high or critical.");
ABSL_FLAG(std::string, kinds, "", "alerts, watch: comma list of rupture, repaired, unrepaired.");
ABSL_FLAG(std::string, status, "", "alerts: open, acknowledged or resolved.");
ABSL_FLAG(std::string, cursor, "", "watch: resume after this cursor.");
ABSL_FLAG(int32_t, count, 0, "watch: stop after this many alerts (0: no limit).");
ABSL_FLAG(absl::Duration, for, absl::ZeroDuration(),
          "watch: stop after this long, e.g. 30s (0: no limit).");
ABSL_FLAG(bool, heartbeats, false, "watch: also print heartbeats (with --json).");
ABSL_FLAG(std::string, actor, "", "ack, resolve: pseudonymous id of the person acting.");

namespace {

constexpr char kUsage[] = R"(alliancectl: command-line client of Alliance.

usage: alliancectl [flags] <command> [args]

commands:
  submit     submit feedback: flags for one submission, or --file data.csv|data.jsonl
  dyad       show one dyad (--therapist, --client)
  dyads      list dyads (--therapist, --at_risk, --open_rupture, --unrepaired, --all_pages)
  timeline   session-by-session scores of one dyad (--therapist, --client)
  alerts     list alerts, newest first (--therapist, --client, --min_severity, --kinds, --status)
  watch      live alerts (--cursor, --count N, --for 30s, --min_severity, --kinds)
  ack ID     acknowledge an alert (--actor)
  resolve ID resolve an alert (--actor)

Every command needs --tenant. --json prints one JSON object per line.)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> positional = alliance::ParseFlagsWithEnv(argc, argv, kUsage);
  if (positional.size() < 2) {
    std::fprintf(stderr, "%s\n", kUsage);
    return 2;
  }
  std::string command = positional[1];
  alliance::ctl::Args args(positional.begin() + 2, positional.end());
  if (command == "submit") return alliance::ctl::Submit(args);
  if (command == "dyad") return alliance::ctl::ShowDyad(args);
  if (command == "dyads") return alliance::ctl::ListDyads(args);
  if (command == "timeline") return alliance::ctl::Timeline(args);
  if (command == "alerts") return alliance::ctl::ListAlerts(args);
  if (command == "watch") return alliance::ctl::Watch(args);
  if (command == "ack") return alliance::ctl::Acknowledge(args);
  if (command == "resolve") return alliance::ctl::Resolve(args);
  std::fprintf(stderr, "unknown command '%s'\n\n%s\n", command.c_str(), kUsage);
  return 2;
}
