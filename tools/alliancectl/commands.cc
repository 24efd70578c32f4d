// The subcommands of alliancectl: each builds one request from flags, calls the service with a
// bounded deadline, and prints a table or JSON.
#include "tools/alliancectl/commands.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "alliance/v1/intake.grpc.pb.h"
#include "common/auth.h"
#include "common/grpc_status.h"
#include "common/strings.h"
#include "store/backoff.h"
#include "tools/alliancectl/connection.h"
#include "tools/alliancectl/ctl_flags.h"
#include "tools/alliancectl/output.h"
#include "tools/alliancectl/submissions.h"

namespace alliance::ctl {
namespace {

using alliance::v1::AllianceInsights;
using alliance::v1::FeedbackIntake;

std::unique_ptr<AllianceInsights::Stub> InsightsStub() {
  return AllianceInsights::NewStub(ChannelOrExit(absl::GetFlag(FLAGS_insights)));
}

std::unique_ptr<FeedbackIntake::Stub> IntakeStub() {
  return FeedbackIntake::NewStub(ChannelOrExit(absl::GetFlag(FLAGS_intake)));
}

int Usage(std::string_view message) {
  std::fprintf(stderr, "usage error: %s\n", std::string(message).c_str());
  return 2;
}

// Tenant from --tenant; may be empty with an API key (the service takes the key's tenant).
// Prints a usage error when missing without a key.
bool Tenant(std::string* tenant) {
  *tenant = absl::GetFlag(FLAGS_tenant);
  absl::StatusOr<std::string> key = ApiKey();
  if (tenant->empty() && (!key.ok() || key->empty())) {
    Usage("--tenant is required without an API key");
    return false;
  }
  return true;
}

bool Json() { return absl::GetFlag(FLAGS_json); }

absl::StatusOr<alliance::v1::Severity> ParseSeverity(const std::string& text) {
  if (text.empty()) return alliance::v1::SEVERITY_UNSPECIFIED;
  alliance::v1::Severity s;
  if (alliance::v1::Severity_Parse("SEVERITY_" + absl::AsciiStrToUpper(text), &s)) return s;
  return absl::InvalidArgumentError("--min_severity: info, warning, high or critical");
}

absl::StatusOr<std::vector<alliance::v1::AlertKind>> ParseKinds(const std::string& text) {
  std::vector<alliance::v1::AlertKind> kinds;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    alliance::v1::AlertKind k;
    if (!alliance::v1::AlertKind_Parse("ALERT_KIND_" + absl::AsciiStrToUpper(part), &k)) {
      return absl::InvalidArgumentError("--kinds: rupture, repaired, unrepaired");
    }
    kinds.push_back(k);
  }
  return kinds;
}

absl::StatusOr<alliance::v1::AlertStatus> ParseStatus(const std::string& text) {
  if (text.empty()) return alliance::v1::ALERT_STATUS_UNSPECIFIED;
  alliance::v1::AlertStatus s;
  if (alliance::v1::AlertStatus_Parse("ALERT_STATUS_" + absl::AsciiStrToUpper(text), &s)) return s;
  return absl::InvalidArgumentError("--status: open, acknowledged, snoozed or resolved");
}

// "item 2: 8.7, item 4: 9.0 (<= 9)": items at or below the check value (one instrument, so one
// check value); "-" if none.
std::string FlaggedItemsText(
    const google::protobuf::RepeatedPtrField<alliance::v1::FlaggedItem>& flags) {
  if (flags.empty()) return "-";
  std::string text;
  for (const alliance::v1::FlaggedItem& f : flags) {
    absl::StrAppend(&text, text.empty() ? "" : ", ", "item ", f.item(), ": ", Fixed(f.value()));
  }
  absl::StrAppend(&text, " (<= ", absl::StrFormat("%g", flags[0].check_value()), ")");
  return text;
}

// One row per rater and instrument series; AT_RISK is the series' own (SeriesRisk).
void PrintDyadSummary(const alliance::v1::Dyad& d) {
  Table table({"THERAPIST", "CLIENT", "RATER", "INSTRUMENT", "SESSIONS", "LATEST", "POMP", "EWMA",
               "TREND", "OPEN_RUPTURE", "AT_RISK"});
  for (const alliance::v1::SeriesPicture& s : d.series()) {
    std::string rupture = "-";
    if (s.has_open_rupture()) {
      rupture = absl::StrCat("since session ", s.open_rupture().onset_session(),
                             s.open_rupture().escalated() ? " (unrepaired)" : "");
    }
    table.Add({d.therapist_id(), d.client_id(), RaterName(s.rater()), s.instrument_id(),
               std::to_string(s.session_count()), Fixed(s.latest()), Fixed(s.latest_pomp()),
               Fixed(s.ewma()), TrendName(s.trend()), rupture, SeriesRisk(s)});
  }
  if (d.series().empty()) {
    table.Add({d.therapist_id(), d.client_id(), "-", "-", "0", "-", "-", "-", "-", "-",
               d.at_risk() ? "yes" : "no"});
  }
  table.Print();
}

// Counts of batch results by outcome: accepted, duplicate, then each error code by name.
class ResultCounts {
 public:
  void Add(const alliance::v1::BatchItemResult& r) {
    ++submitted_;
    if (r.code() != 0) {
      ++errors_[r.code()];
    } else if (r.ack().duplicate()) {
      ++duplicate_;
    } else {
      ++accepted_;
    }
  }
  int64_t submitted() const { return submitted_; }
  int64_t failed() const {
    int64_t n = 0;
    for (const auto& [code, count] : errors_) n += count;
    return n;
  }
  // "1,020 submitted: 1,000 accepted, 12 duplicate, 8 INVALID_ARGUMENT" (zero counts left out).
  std::string Line() const {
    std::vector<std::string> parts;
    if (accepted_ > 0) parts.push_back(absl::StrCat(WithThousands(accepted_), " accepted"));
    if (duplicate_ > 0) parts.push_back(absl::StrCat(WithThousands(duplicate_), " duplicate"));
    for (const auto& [code, count] : errors_) {
      parts.push_back(absl::StrCat(WithThousands(count), " ", CodeName(code)));
    }
    return absl::StrCat(WithThousands(submitted_), " submitted", parts.empty() ? "" : ": ",
                        absl::StrJoin(parts, ", "));
  }
  nlohmann::json Json() const {
    nlohmann::json out = {{"submitted", submitted_},
                          {"accepted", accepted_},
                          {"duplicate", duplicate_},
                          {"errors", nlohmann::json::object()}};
    for (const auto& [code, count] : errors_) out["errors"][CodeName(code)] = count;
    return out;
  }

 private:
  int64_t submitted_ = 0;
  int64_t accepted_ = 0;
  int64_t duplicate_ = 0;
  std::map<int, int64_t> errors_;  // by code, so the order is stable
};

}  // namespace

int Submit(const Args& /*args*/) {
  std::string tenant;
  if (!Tenant(&tenant)) return 2;
  std::vector<alliance::v1::Feedback> submissions;
  if (std::string file = absl::GetFlag(FLAGS_file); !file.empty()) {
    absl::StatusOr<std::vector<alliance::v1::Feedback>> read = ReadSubmissionFile(file, tenant);
    if (!read.ok()) return Usage(Std(read.status().message()));
    submissions = *std::move(read);
  } else {
    alliance::v1::Feedback f;
    f.set_tenant_id(tenant);
    f.set_idempotency_id(absl::GetFlag(FLAGS_idempotency_id));
    f.set_therapist_id(absl::GetFlag(FLAGS_therapist));
    f.set_client_id(absl::GetFlag(FLAGS_client));
    f.set_session_id(absl::GetFlag(FLAGS_session_id));
    f.set_session_number(absl::GetFlag(FLAGS_session_number));
    if (!google::protobuf::util::TimeUtil::FromString(absl::GetFlag(FLAGS_session_time),
                                                      f.mutable_session_time())) {
      return Usage("--session_time: RFC 3339, e.g. 2024-03-01T10:00:00Z");
    }
    absl::StatusOr<alliance::v1::Rater> rater = ParseRater(absl::GetFlag(FLAGS_rater));
    if (!rater.ok()) return Usage(Std(rater.status().message()));
    f.set_rater(*rater);
    f.set_instrument_id(absl::GetFlag(FLAGS_instrument));
    if (absl::Status s = ParseAnswers(absl::GetFlag(FLAGS_answers), &f); !s.ok()) {
      return Usage(Std(s.message()));
    }
    submissions.push_back(std::move(f));
  }
  const size_t chunk = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_chunk)));
  const bool summary = absl::GetFlag(FLAGS_summary);
  auto stub = IntakeStub();
  Table table({"LINE", "RESULT", "ACCEPTED_ID", "PARTITION", "STREAM_ID", "MESSAGE"});
  ResultCounts counts;
  grpc::Status call_status;
  for (size_t begin = 0; begin < submissions.size() && call_status.ok(); begin += chunk) {
    alliance::v1::SubmitFeedbackBatchRequest request;
    for (size_t i = begin; i < std::min(submissions.size(), begin + chunk); ++i) {
      *request.add_feedback() = submissions[i];
    }
    alliance::v1::SubmitFeedbackBatchResponse response;
    grpc::ClientContext context;
    PrepareUnaryCall(&context);
    call_status = stub->SubmitFeedbackBatch(&context, request, &response);
    for (const alliance::v1::BatchItemResult& r : response.results()) {
      counts.Add(r);
      if (summary) continue;
      if (Json()) {
        PrintJson(r);
        continue;
      }
      std::string result =
          r.code() == 0 ? (r.ack().duplicate() ? "duplicate" : "accepted") : CodeName(r.code());
      table.Add({std::to_string(begin + r.index() + 1), result, r.ack().accepted_id(),
                 std::to_string(r.ack().partition()), r.ack().stream_id(), r.message()});
    }
  }
  // What was answered is shown even when a call failed, so a rerun knows where it stands.
  if (Json()) {
    if (summary) std::printf("%s\n", counts.Json().dump().c_str());
  } else {
    if (!summary) table.Print();
    std::printf("%s\n", counts.Line().c_str());
  }
  std::fflush(stdout);
  if (!call_status.ok()) {
    std::fprintf(
        stderr, "%s of %s submissions not answered (the call failed)\n",
        WithThousands(static_cast<int64_t>(submissions.size()) - counts.submitted()).c_str(),
        WithThousands(static_cast<int64_t>(submissions.size())).c_str());
    return CallFailed(call_status);
  }
  return counts.failed() == 0 ? 0 : 1;
}

int ShowDyad(const Args& /*args*/) {
  std::string tenant;
  if (!Tenant(&tenant)) return 2;
  alliance::v1::GetDyadRequest request;
  request.set_tenant_id(tenant);
  request.set_therapist_id(absl::GetFlag(FLAGS_therapist));
  request.set_client_id(absl::GetFlag(FLAGS_client));
  alliance::v1::GetDyadResponse response;
  grpc::ClientContext context;
  PrepareUnaryCall(&context);
  grpc::Status status = InsightsStub()->GetDyad(&context, request, &response);
  if (!status.ok()) return CallFailed(status);
  if (Json()) {
    PrintJson(response.dyad());
    return 0;
  }
  const alliance::v1::Dyad& d = response.dyad();
  PrintDyadSummary(d);
  if (d.has_gap()) {
    std::printf("client-therapist gap: latest %s POMP, mean %s POMP over %d sessions\n",
                Fixed(d.gap().latest_gap_pomp()).c_str(), Fixed(d.gap().mean_gap_pomp()).c_str(),
                d.gap().sessions_compared());
  }
  for (const alliance::v1::SeriesPicture& s : d.series()) {
    if (s.latest_subscales().empty()) continue;
    std::string line = absl::StrCat(RaterName(s.rater()), " ", s.instrument_id(), " subscales:");
    for (const auto& sub : s.latest_subscales()) {
      absl::StrAppend(&line, " ", sub.name(), "=", Fixed(sub.score()), " (", Fixed(sub.pomp()),
                      "%)");
    }
    std::printf("%s\n", line.c_str());
  }
  // Check-in flags of the latest session (information, never an alert).
  for (const alliance::v1::SeriesPicture& s : d.series()) {
    if (s.latest_flagged_items().empty()) continue;
    std::printf("%s %s flagged items (latest session): %s\n", RaterName(s.rater()).c_str(),
                s.instrument_id().c_str(), FlaggedItemsText(s.latest_flagged_items()).c_str());
  }
  return 0;
}

// After one page of a listing: unless --all_pages asks for the next one, prints the table
// (with --json, the rows went out already and only the next page token follows) and returns
// true to end the listing.
template <typename Response>
bool EndOfListing(const Table& table, const std::string& next_page_token) {
  if (!next_page_token.empty() && absl::GetFlag(FLAGS_all_pages)) return false;
  if (!Json()) {
    table.Print();
    if (!next_page_token.empty()) {
      std::printf("next page: --page_token=%s\n", next_page_token.c_str());
    }
  } else if (!next_page_token.empty()) {
    Response token_only;
    token_only.set_next_page_token(next_page_token);
    PrintJson(token_only);
  }
  return true;
}

int ListDyads(const Args& /*args*/) {
  std::string tenant;
  if (!Tenant(&tenant)) return 2;
  alliance::v1::ListDyadsRequest request;
  request.set_tenant_id(tenant);
  request.set_therapist_id(absl::GetFlag(FLAGS_therapist));
  request.set_at_risk_only(absl::GetFlag(FLAGS_at_risk));
  request.set_open_rupture_only(absl::GetFlag(FLAGS_open_rupture));
  request.set_unrepaired_only(absl::GetFlag(FLAGS_unrepaired));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  auto stub = InsightsStub();
  Table table({"THERAPIST", "CLIENT", "RATINGS", "CLIENT_LATEST", "TREND", "OPEN_RUPTURES",
               "AT_RISK", "UNREPAIRED"});
  // Bounded: at most 100,000 pages.
  for (int page = 0; page < 100000; ++page) {
    alliance::v1::ListDyadsResponse response;
    grpc::ClientContext context;
    PrepareUnaryCall(&context);
    grpc::Status status = stub->ListDyads(&context, request, &response);
    if (!status.ok()) return CallFailed(status);
    for (const alliance::v1::Dyad& d : response.dyads()) {
      if (Json()) {
        PrintJson(d);
        continue;
      }
      std::string latest = "-";
      std::string trend = "-";
      for (const auto& s : d.series()) {
        if (s.rater() == alliance::v1::RATER_CLIENT) {
          latest = absl::StrCat(Fixed(s.latest()), " ", s.instrument_id());
          trend = TrendName(s.trend());
          break;
        }
      }
      table.Add({d.therapist_id(), d.client_id(), std::to_string(d.ratings_applied()), latest,
                 trend, std::to_string(d.open_ruptures()), DyadRisk(d),
                 d.unrepaired() ? "yes" : "no"});
    }
    if (EndOfListing<alliance::v1::ListDyadsResponse>(table, response.next_page_token())) return 0;
    request.set_page_token(response.next_page_token());
  }
  return 0;
}

int Timeline(const Args& /*args*/) {
  std::string tenant;
  if (!Tenant(&tenant)) return 2;
  alliance::v1::GetDyadTimelineRequest request;
  request.set_tenant_id(tenant);
  request.set_therapist_id(absl::GetFlag(FLAGS_therapist));
  request.set_client_id(absl::GetFlag(FLAGS_client));
  alliance::v1::GetDyadTimelineResponse response;
  grpc::ClientContext context;
  PrepareUnaryCall(&context);
  grpc::Status status = InsightsStub()->GetDyadTimeline(&context, request, &response);
  if (!status.ok()) return CallFailed(status);
  if (Json()) {
    PrintJson(response);
    return 0;
  }
  Table table(
      {"SESSION", "TIME", "RATER", "INSTRUMENT", "TOTAL", "POMP", "FLAGGED_ITEMS", "ALERTS"});
  for (const alliance::v1::TimelinePoint& p : response.points()) {
    std::string alerts;
    for (const auto& a : p.alerts()) {
      absl::StrAppend(&alerts, alerts.empty() ? "" : ", ", KindName(a.kind()), "/",
                      SeverityName(a.severity()));
    }
    table.Add({std::to_string(p.session_number()), FormatTime(p.session_time()),
               RaterName(p.rater()), p.instrument_id(), Fixed(p.total()), Fixed(p.pomp()),
               FlaggedItemsText(p.flagged_items()), alerts.empty() ? "-" : alerts});
  }
  table.Print();
  return 0;
}

int ListAlerts(const Args& /*args*/) {
  std::string tenant;
  if (!Tenant(&tenant)) return 2;
  absl::StatusOr<alliance::v1::Severity> severity =
      ParseSeverity(absl::GetFlag(FLAGS_min_severity));
  absl::StatusOr<std::vector<alliance::v1::AlertKind>> kinds =
      ParseKinds(absl::GetFlag(FLAGS_kinds));
  absl::StatusOr<alliance::v1::AlertStatus> wanted = ParseStatus(absl::GetFlag(FLAGS_status));
  if (!severity.ok()) return Usage(Std(severity.status().message()));
  if (!kinds.ok()) return Usage(Std(kinds.status().message()));
  if (!wanted.ok()) return Usage(Std(wanted.status().message()));
  alliance::v1::ListAlertsRequest request;
  request.set_tenant_id(tenant);
  request.set_therapist_id(absl::GetFlag(FLAGS_therapist));
  request.set_client_id(absl::GetFlag(FLAGS_client));
  request.set_min_severity(*severity);
  for (auto k : *kinds) request.add_kinds(k);
  request.set_status(*wanted);
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  auto stub = InsightsStub();
  Table table = AlertTable();
  for (int page = 0; page < 100000; ++page) {
    alliance::v1::ListAlertsResponse response;
    grpc::ClientContext context;
    PrepareUnaryCall(&context);
    grpc::Status status = stub->ListAlerts(&context, request, &response);
    if (!status.ok()) return CallFailed(status);
    for (const alliance::v1::Alert& a : response.alerts()) {
      if (Json()) {
        PrintJson(a);
      } else {
        AddAlertRow(table, a);
      }
    }
    if (EndOfListing<alliance::v1::ListAlertsResponse>(table, response.next_page_token())) return 0;
    request.set_page_token(response.next_page_token());
  }
  return 0;
}

int Watch(const Args& /*args*/) {
  std::string tenant;
  if (!Tenant(&tenant)) return 2;
  absl::StatusOr<alliance::v1::Severity> severity =
      ParseSeverity(absl::GetFlag(FLAGS_min_severity));
  absl::StatusOr<std::vector<alliance::v1::AlertKind>> kinds =
      ParseKinds(absl::GetFlag(FLAGS_kinds));
  if (!severity.ok()) return Usage(Std(severity.status().message()));
  if (!kinds.ok()) return Usage(Std(kinds.status().message()));
  alliance::v1::WatchAlertsRequest request;
  request.set_tenant_id(tenant);
  request.set_cursor(absl::GetFlag(FLAGS_cursor));
  request.set_therapist_id(absl::GetFlag(FLAGS_therapist));
  request.set_min_severity(*severity);
  for (auto k : *kinds) request.add_kinds(k);
  const int max_alerts = absl::GetFlag(FLAGS_count);
  const absl::Duration run_for = absl::GetFlag(FLAGS_for);
  const absl::Time end =
      run_for > absl::ZeroDuration() ? absl::Now() + run_for : absl::InfiniteFuture();
  auto stub = InsightsStub();
  int received = 0;
  bool header_printed = false;
  // A stream the server ends (its connection age, a restart, a slow reader cut off) is opened
  // again from the cursor of the last message received, which says exactly what was delivered,
  // so no alert is missed or repeated. The waits between attempts grow from 100 ms to 5 s
  // (store/backoff.h); after kMaxAttemptsWithoutMessage attempts in a row that received
  // nothing, the watch gives up with the last error.
  constexpr int kMaxAttemptsWithoutMessage = 8;
  Backoff backoff({.initial = absl::Milliseconds(100), .max = absl::Seconds(5)});
  int attempts_without_message = 0;
  grpc::Status status;
  while (true) {
    grpc::ClientContext context;
    AddApiKey(&context);
    if (end != absl::InfiniteFuture()) context.set_deadline(absl::ToChronoTime(end));
    // Without --for the stream has no deadline, but connecting fails fast (no wait for ready).
    context.set_wait_for_ready(false);
    std::unique_ptr<grpc::ClientReader<alliance::v1::WatchAlertsResponse>> reader =
        stub->WatchAlerts(&context, request);
    alliance::v1::WatchAlertsResponse message;
    bool got_message = false;
    while ((max_alerts == 0 || received < max_alerts) && reader->Read(&message)) {
      got_message = true;
      request.set_cursor(message.cursor());
      if (message.heartbeat()) {
        if (Json() && absl::GetFlag(FLAGS_heartbeats)) PrintJson(message);
        continue;
      }
      ++received;
      if (Json()) {
        PrintJson(message);
        continue;
      }
      Table row = AlertTable();
      AddAlertRow(row, message.alert());
      row.Print(/*with_header=*/!header_printed);
      header_printed = true;
    }
    if (max_alerts > 0 && received >= max_alerts) {
      context.TryCancel();
      reader->Finish();
      status = grpc::Status::OK;
      break;
    }
    status = reader->Finish();
    const bool time_up = absl::Now() >= end;
    // UNAVAILABLE: the connection or the server went away; RESOURCE_EXHAUSTED: cut off as a
    // slow reader (or a limit, which the attempt bound ends). Other codes are final.
    const bool resumable =
        status.error_code() == grpc::UNAVAILABLE || status.error_code() == grpc::RESOURCE_EXHAUSTED;
    if (time_up || !resumable) break;
    attempts_without_message = got_message ? 0 : attempts_without_message + 1;
    if (got_message) backoff.Reset();
    if (attempts_without_message >= kMaxAttemptsWithoutMessage) break;
    const absl::Duration wait = std::min(backoff.Next(), end - absl::Now());
    std::fprintf(stderr, "watch: stream ended (%s: %s); resuming in %lld ms from cursor %s\n",
                 std::string(GrpcCodeName(status.error_code())).c_str(),
                 status.error_message().c_str(),
                 static_cast<long long>(absl::ToInt64Milliseconds(wait)), request.cursor().c_str());
    absl::SleepFor(wait);
  }
  if (!Json()) std::printf("resume with: --cursor=%s\n", request.cursor().c_str());
  const bool stopped_by_us =
      (max_alerts > 0 && received >= max_alerts) ||
      (run_for > absl::ZeroDuration() &&
       (status.error_code() == grpc::DEADLINE_EXCEEDED || absl::Now() >= end));
  if (stopped_by_us || status.ok()) return 0;
  return CallFailed(status);
}

namespace {

int ChangeStatus(const Args& args, bool resolve) {
  std::string tenant;
  if (!Tenant(&tenant)) return 2;
  if (args.size() != 1) return Usage(resolve ? "resolve ALERT_ID" : "ack ALERT_ID");
  if (absl::GetFlag(FLAGS_actor).empty()) return Usage("--actor is required");
  auto stub = InsightsStub();
  grpc::ClientContext context;
  PrepareUnaryCall(&context);
  alliance::v1::Alert alert;
  grpc::Status status;
  if (resolve) {
    alliance::v1::ResolveAlertRequest request;
    request.set_tenant_id(tenant);
    request.set_alert_id(args[0]);
    request.set_actor(absl::GetFlag(FLAGS_actor));
    request.set_therapist_id(absl::GetFlag(FLAGS_therapist));
    request.set_client_id(absl::GetFlag(FLAGS_client));
    alliance::v1::ResolveAlertResponse response;
    status = stub->ResolveAlert(&context, request, &response);
    alert = response.alert();
  } else {
    alliance::v1::AcknowledgeAlertRequest request;
    request.set_tenant_id(tenant);
    request.set_alert_id(args[0]);
    request.set_actor(absl::GetFlag(FLAGS_actor));
    request.set_therapist_id(absl::GetFlag(FLAGS_therapist));
    request.set_client_id(absl::GetFlag(FLAGS_client));
    alliance::v1::AcknowledgeAlertResponse response;
    status = stub->AcknowledgeAlert(&context, request, &response);
    alert = response.alert();
  }
  if (!status.ok()) return CallFailed(status);
  if (Json()) {
    PrintJson(alert);
    return 0;
  }
  Table table = AlertTable();
  AddAlertRow(table, alert);
  table.Print();
  return 0;
}

}  // namespace

int Acknowledge(const Args& args) { return ChangeStatus(args, false); }
int Resolve(const Args& args) { return ChangeStatus(args, true); }

int Snooze(const Args& args) {
  std::string tenant;
  if (!Tenant(&tenant)) return 2;
  if (args.size() != 1) return Usage("snooze ALERT_ID");
  if (absl::GetFlag(FLAGS_actor).empty()) return Usage("--actor is required");
  if (absl::GetFlag(FLAGS_reason).empty()) return Usage("--reason is required");
  const absl::Duration length = absl::GetFlag(FLAGS_for);
  const std::string until_text = absl::GetFlag(FLAGS_until);
  if ((length == absl::ZeroDuration()) == until_text.empty()) {
    return Usage("snooze needs one of --for (e.g. 2h) or --until (RFC 3339)");
  }
  alliance::v1::SnoozeAlertRequest request;
  request.set_tenant_id(tenant);
  request.set_alert_id(args[0]);
  request.set_actor(absl::GetFlag(FLAGS_actor));
  request.set_reason(absl::GetFlag(FLAGS_reason));
  request.set_therapist_id(absl::GetFlag(FLAGS_therapist));
  request.set_client_id(absl::GetFlag(FLAGS_client));
  if (until_text.empty()) {
    *request.mutable_duration() =
        google::protobuf::util::TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(length));
  } else {
    absl::Time until;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, until_text, &until, &error)) {
      return Usage(absl::StrCat("--until: not an RFC 3339 time (", error, ")"));
    }
    *request.mutable_until() =
        google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(until));
  }
  auto stub = InsightsStub();
  grpc::ClientContext context;
  PrepareUnaryCall(&context);
  alliance::v1::SnoozeAlertResponse response;
  grpc::Status status = stub->SnoozeAlert(&context, request, &response);
  if (!status.ok()) return CallFailed(status);
  if (Json()) {
    PrintJson(response.alert());
    return 0;
  }
  Table table = AlertTable();
  AddAlertRow(table, response.alert());
  table.Print();
  return 0;
}

int DeleteClient(const Args& /*args*/) {
  std::string tenant;
  if (!Tenant(&tenant)) return 2;
  if (absl::GetFlag(FLAGS_client).empty()) return Usage("--client is required");
  auto stub = InsightsStub();
  grpc::ClientContext context;
  PrepareUnaryCall(&context);
  alliance::v1::DeleteClientDataRequest request;
  request.set_tenant_id(tenant);
  request.set_client_id(absl::GetFlag(FLAGS_client));
  alliance::v1::DeleteClientDataResponse response;
  grpc::Status status = stub->DeleteClientData(&context, request, &response);
  if (!status.ok()) return CallFailed(status);
  if (Json()) {
    PrintJson(response);
    return 0;
  }
  Table table({"KIND", "REMOVED"});
  table.Add({"dyad states", std::to_string(response.dyad_states())});
  table.Add({"dyad index entries", std::to_string(response.dyad_index_entries())});
  table.Add({"alert entries", std::to_string(response.alert_entries())});
  table.Add({"alert statuses", std::to_string(response.alert_statuses())});
  table.Add({"feedback entries", std::to_string(response.feedback_entries())});
  table.Add({"dead letters", std::to_string(response.dead_letters())});
  table.Add({"idempotency records", std::to_string(response.idempotency_records())});
  table.Print();
  return 0;
}

namespace {

// A number as written in an instrument definition: 10, 0.1, 3.5.
std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

// "< 36" (a concern below 36), "<= 2" (at or below), "-" when there is no cutoff.
std::string CutoffText(bool present, const alliance::v1::Cutoff& cutoff) {
  if (!present) return "-";
  const char* side = cutoff.direction() == alliance::v1::CUTOFF_DIRECTION_AT_OR_BELOW ? "<=" : "<";
  return absl::StrCat(side, " ", Number(cutoff.value()));
}

// One instrument's items: range, step, reverse scoring and the subscales each item is in.
int PrintInstrumentItems(const alliance::v1::Instrument& instrument) {
  std::printf("%s (%s): %d items, %s..%s step %s, total %s..%s, cutoff %s\n",
              instrument.id().c_str(), instrument.name().c_str(), instrument.item_count(),
              Number(instrument.item_min()).c_str(), Number(instrument.item_max()).c_str(),
              Number(instrument.step()).c_str(), Number(instrument.total_min()).c_str(),
              Number(instrument.total_max()).c_str(),
              CutoffText(instrument.has_total_cutoff(), instrument.total_cutoff()).c_str());
  Table table({"ITEM", "MIN", "MAX", "STEP", "REVERSED", "SUBSCALES"});
  for (int item = 1; item <= instrument.item_count(); ++item) {
    const bool reversed =
        std::find(instrument.reverse_items().begin(), instrument.reverse_items().end(), item) !=
        instrument.reverse_items().end();
    std::vector<std::string> subscales;
    for (const alliance::v1::InstrumentSubscale& sub : instrument.subscales()) {
      if (std::find(sub.items().begin(), sub.items().end(), item) != sub.items().end()) {
        subscales.push_back(sub.name());
      }
    }
    table.Add({std::to_string(item), Number(instrument.item_min()), Number(instrument.item_max()),
               Number(instrument.step()), reversed ? "yes" : "no",
               subscales.empty() ? "-" : absl::StrJoin(subscales, ", ")});
  }
  table.Print();
  return 0;
}

}  // namespace

int Instruments(const Args& args) {
  alliance::v1::ListInstrumentsResponse response;
  grpc::ClientContext context;
  PrepareUnaryCall(&context);
  grpc::Status status =
      InsightsStub()->ListInstruments(&context, alliance::v1::ListInstrumentsRequest(), &response);
  if (!status.ok()) return CallFailed(status);
  if (!args.empty()) {
    for (const alliance::v1::Instrument& instrument : response.instruments()) {
      if (instrument.id() != args.front()) continue;
      if (Json()) {
        PrintJson(instrument);
        return 0;
      }
      return PrintInstrumentItems(instrument);
    }
    return CallFailed(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                   absl::StrCat("no instrument '", args.front(), "'")));
  }
  if (Json()) {
    for (const alliance::v1::Instrument& instrument : response.instruments()) {
      PrintJson(instrument);
    }
    return 0;
  }
  Table table({"ID", "NAME", "RATERS", "ITEMS", "SCALE", "SUBSCALES", "CUTOFF"});
  for (const alliance::v1::Instrument& instrument : response.instruments()) {
    std::vector<std::string> raters;
    for (int rater : instrument.raters()) {
      raters.push_back(RaterName(static_cast<alliance::v1::Rater>(rater)));
    }
    std::vector<std::string> subscales;
    for (const alliance::v1::InstrumentSubscale& sub : instrument.subscales()) {
      subscales.push_back(sub.name());
    }
    table.Add({instrument.id(), instrument.name(), absl::StrJoin(raters, ", "),
               std::to_string(instrument.item_count()),
               absl::StrCat(Number(instrument.item_min()), "..", Number(instrument.item_max()),
                            " step ", Number(instrument.step())),
               subscales.empty() ? "-" : absl::StrJoin(subscales, ", "),
               CutoffText(instrument.has_total_cutoff(), instrument.total_cutoff())});
  }
  table.Print();
  return 0;
}

int HashKey(const Args& /*args*/) {
  std::string key;
  if (!std::getline(std::cin, key)) return Usage("hash-key: give the API key on stdin");
  absl::StripAsciiWhitespace(&key);
  if (key.size() < 16) return Usage("hash-key: an API key needs at least 16 characters");
  nlohmann::json entry;
  entry["id"] = absl::GetFlag(FLAGS_key_id);
  entry["sha256"] = HashApiKey(key);
  entry["tenant"] = absl::GetFlag(FLAGS_tenant);
  entry["scopes"] = nlohmann::json::array();
  for (absl::string_view scope :
       absl::StrSplit(absl::GetFlag(FLAGS_scopes), ',', absl::SkipWhitespace())) {
    entry["scopes"].push_back(std::string(scope));
  }
  std::printf("%s\n", entry.dump().c_str());
  return 0;
}

}  // namespace alliance::ctl
