// alliancectl: command-line client of Alliance for people and scripts. Submits feedback to
// FeedbackIntake and reads dyads and alerts from AllianceInsights.
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "common/process.h"
#include "tools/alliancectl/commands.h"
#include "tools/alliancectl/connection.h"
#include "tools/alliancectl/ctl_flags.h"
#include "tools/alliancectl/fhir_commands.h"
#include "tools/alliancectl/flag_check.h"

ABSL_FLAG(std::string, intake, "localhost:50051", "FeedbackIntake address (host:port).");
ABSL_FLAG(std::string, insights, "localhost:50052", "AllianceInsights address (host:port).");
ABSL_FLAG(std::string, tenant, "",
          "Tenant to act for. Default: the API key's tenant (a key fixes its tenant; naming "
          "another is PERMISSION_DENIED). Required only without a key; hash-key: the entry's "
          "tenant.");
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
ABSL_FLAG(bool, summary, false,
          "submit: print the counts by result (accepted, duplicate, each error code) instead "
          "of one line per submission.");
ABSL_FLAG(bool, at_risk, false, "dyads: only dyads at risk.");
ABSL_FLAG(bool, open_rupture, false, "dyads: only dyads with an open rupture.");
ABSL_FLAG(bool, unrepaired, false, "dyads: only dyads with an unrepaired rupture.");
ABSL_FLAG(int32_t, page_size, 50, "dyads, alerts: items per page.");
ABSL_FLAG(std::string, page_token, "", "dyads, alerts: continue from this page token.");
ABSL_FLAG(bool, all_pages, false, "dyads, alerts: follow page tokens to the end.");
ABSL_FLAG(std::string, min_severity, "", "alerts, watch: info, warning, high or critical.");
ABSL_FLAG(std::string, kinds, "", "alerts, watch: comma list of rupture, repaired, unrepaired.");
ABSL_FLAG(std::string, status, "", "alerts: open, acknowledged, snoozed or resolved.");
ABSL_FLAG(std::string, cursor, "", "watch: resume after this cursor.");
ABSL_FLAG(int32_t, count, 0, "watch: stop after this many alerts (0: no limit).");
ABSL_FLAG(absl::Duration, for, absl::ZeroDuration(),
          "watch: stop after this long, e.g. 30s (0: no limit). snooze: how long, e.g. 2h.");
ABSL_FLAG(bool, heartbeats, false, "watch: also print heartbeats (with --json).");
ABSL_FLAG(bool, export, false, "fhir-bundle: the transaction Bundle of conditional creates.");
ABSL_FLAG(std::string, actor, "", "ack, resolve, snooze: pseudonymous id of the person acting.");
ABSL_FLAG(std::string, reason, "",
          "snooze: why, 1-200 characters (free text: kept with the alert's status only).");
ABSL_FLAG(std::string, until, "", "snooze: until this time, RFC 3339 (instead of --for).");
ABSL_FLAG(std::string, api_key_file, "",
          "File whose first line is the API key sent with every call (else $ALLIANCE_API_KEY).");
ABSL_FLAG(bool, tls, false, "Connect with TLS, trusting the system's CAs.");
ABSL_FLAG(std::string, tls_ca_file, "", "PEM CA bundle to verify the server with (implies TLS).");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM client certificate chain for mTLS.");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file.");
ABSL_FLAG(std::string, key_id, "", "hash-key: id of the key file entry.");
ABSL_FLAG(std::string, scopes, "", "hash-key: comma list of submit, read, watch, admin.");

namespace {

constexpr char kUsage[] = R"(alliancectl: command-line client of Alliance.

usage: alliancectl [flags] <command> [args]

commands:
  submit     submit feedback: flags for one submission, or --file data.csv|data.jsonl
             (--summary: counts by result instead of one line per submission)
  dyad       show one dyad (--therapist, --client)
  dyads      list dyads (--therapist, --at_risk, --open_rupture, --unrepaired, --all_pages)
  timeline   session-by-session scores of one dyad (--therapist, --client)
  alerts     list alerts, newest first (--therapist, --client, --min_severity, --kinds, --status)
  watch      live alerts (--cursor, --count N, --for 30s, --min_severity, --kinds)
  ack ID     acknowledge an alert (--actor)
  resolve ID resolve an alert (--actor)
  snooze ID  put an alert aside until a time limit, then it is back by itself (--actor,
             --reason, --for 2h or --until RFC3339; at least 1m, at most the service's
             --max_snooze, 30 days by default)
  delete-client  erase one client's data everywhere (--client; needs an admin key)
  therapists [ID]  therapist summaries for supervision, not ranking: dyads, active, share at
             risk, ruptures per 100 sessions, share repaired in the window, median client
             POMP, client-therapist gap, each shrunk toward the tenant with (95% interval)
             and n, and the tenant's row; with a therapist id, that therapist and the tenant
  instruments [ID]  the instruments the service scores with (id, name, raters, items, scale,
             subscales, cutoff); with an instrument id, that instrument's items
  hash-key   read an API key on stdin, print its key file entry (--key_id, --tenant, --scopes)
  fhir-submit FILE...  submit FHIR R4 QuestionnaireResponse files (JSON), one line per file
  questionnaire [ID]  an instrument as a FHIR Questionnaire (JSON); without an id, all of them
  fhir-bundle  a dyad's FHIR Observations and Flags as a Bundle (--therapist, --client;
             --export: a transaction of conditional creates to import)

Calls carry the API key of --api_key_file or $ALLIANCE_API_KEY; the tenant is the key's
(--tenant may name it; without a key --tenant is required). --tls, --tls_ca_file and
--tls_cert_file/--tls_key_file (mTLS) secure the connection. --json prints one JSON object
per line.

Exit codes: 0 success, 1 a call failed (or a submission was refused), 2 usage error (unknown
flag, illegal value, missing or unknown command, bad arguments).)";

constexpr std::string_view kCommands[] = {
    "submit",      "dyad",        "dyads",         "timeline",      "alerts",   "watch",
    "ack",         "resolve",     "snooze",        "delete-client", "hash-key", "therapists",
    "instruments", "fhir-submit", "questionnaire", "fhir-bundle"};

// Commands that take positional arguments, and how many.
int PositionalCount(const std::string& command) {
  return command == "ack" || command == "resolve" || command == "snooze" ? 1 : 0;
}

// Commands whose one positional argument may be left out.
bool PositionalOptional(const std::string& command) {
  return command == "instruments" || command == "questionnaire";
}

}  // namespace

int main(int argc, char** argv) {
  // absl exits 1 on a bad flag; check first so that usage errors exit 2.
  if (absl::Status usage = alliance::ctl::CheckCommandLine(argc, argv); !usage.ok()) {
    std::fprintf(stderr, "usage error: %s (alliancectl --help lists the flags)\n",
                 std::string(usage.message()).c_str());
    return 2;
  }
  std::vector<char*> positional = alliance::ParseFlagsWithEnv(argc, argv, kUsage);
  if (positional.size() < 2) {
    std::fprintf(stderr, "usage error: no command given\n\n%s\n", kUsage);
    return 2;
  }
  std::string command = positional[1];
  alliance::ctl::Args args(positional.begin() + 2, positional.end());
  if (std::find(std::begin(kCommands), std::end(kCommands), command) == std::end(kCommands)) {
    std::fprintf(stderr, "usage error: unknown command '%s'\n\n%s\n", command.c_str(), kUsage);
    return 2;
  }
  // therapists [THERAPIST_ID]: its one argument is optional, so it is checked and run here.
  if (command == "therapists") {
    if (args.size() > 1) {
      std::fprintf(stderr,
                   "usage error: therapists takes at most one argument, the therapist id\n");
      return 2;
    }
    if (absl::StatusOr<std::string> key = alliance::ctl::ApiKey(); !key.ok()) {
      std::fprintf(stderr, "usage error: %s\n", std::string(key.status().message()).c_str());
      return 2;
    }
    return alliance::ctl::Therapists(args);
  }
  // fhir-submit FILE...: any number of files, checked by the command.
  if (command == "fhir-submit") {
    if (absl::StatusOr<std::string> key = alliance::ctl::ApiKey(); !key.ok()) {
      std::fprintf(stderr, "usage error: %s\n", std::string(key.status().message()).c_str());
      return 2;
    }
    return alliance::ctl::FhirSubmit(args);
  }
  if (PositionalOptional(command) && args.size() > 1) {
    std::fprintf(stderr, "usage error: %s takes at most one argument, the instrument id\n",
                 command.c_str());
    return 2;
  }
  if (!PositionalOptional(command) && static_cast<int>(args.size()) != PositionalCount(command)) {
    if (PositionalCount(command) == 1) {
      std::fprintf(stderr, "usage error: %s takes one argument, the alert id: %s ALERT_ID\n",
                   command.c_str(), command.c_str());
    } else {
      std::fprintf(stderr, "usage error: %s takes no arguments, got '%s'\n", command.c_str(),
                   args.front().c_str());
    }
    return 2;
  }
  if (command == "hash-key") return alliance::ctl::HashKey(args);
  if (absl::StatusOr<std::string> key = alliance::ctl::ApiKey(); !key.ok()) {
    std::fprintf(stderr, "usage error: %s\n", std::string(key.status().message()).c_str());
    return 2;
  }
  if (command == "submit") return alliance::ctl::Submit(args);
  if (command == "dyad") return alliance::ctl::ShowDyad(args);
  if (command == "dyads") return alliance::ctl::ListDyads(args);
  if (command == "timeline") return alliance::ctl::Timeline(args);
  if (command == "alerts") return alliance::ctl::ListAlerts(args);
  if (command == "watch") return alliance::ctl::Watch(args);
  if (command == "ack") return alliance::ctl::Acknowledge(args);
  if (command == "resolve") return alliance::ctl::Resolve(args);
  if (command == "snooze") return alliance::ctl::Snooze(args);
  if (command == "delete-client") return alliance::ctl::DeleteClient(args);
  if (command == "instruments") return alliance::ctl::Instruments(args);
  if (command == "questionnaire") return alliance::ctl::FhirQuestionnaire(args);
  if (command == "fhir-bundle") return alliance::ctl::FhirBundle(args);
  return 2;  // not reached: the command was checked against kCommands
}
