// `alliancectl therapists [THERAPIST_ID]`: therapist summaries for supervision
// (GetTherapistSummary, ListTherapistSummaries; read scope). A table with one row per
// therapist (ordered by id, never by a figure) and a last row for the tenant, each figure as its
// shrunken value with the 95% interval and n; --json prints each TherapistSummary as one line,
// the tenant's last (therapist_id empty).
#include <chrono>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "tools/alliancectl/commands.h"
#include "tools/alliancectl/connection.h"
#include "tools/alliancectl/ctl_flags.h"
#include "tools/alliancectl/output.h"

namespace alliance::ctl {
namespace {

constexpr int kMaxPages = 1000;  // bound of the page loop (500 therapists a page)

// "32% (12-61) n=7"; "-" when nothing to report. `scale` 100 shows a share as a percentage.
std::string FigureText(const alliance::v1::SummaryFigure& f, double scale, int decimals,
                       const char* unit) {
  if (!f.defined()) return "-";
  return absl::StrCat(Fixed(f.shrunken() * scale, decimals), unit, " (",
                      Fixed(f.interval_low() * scale, decimals), "..",
                      Fixed(f.interval_high() * scale, decimals), ") n=", f.n());
}

Table SummaryTable() {
  return Table({"THERAPIST", "DYADS", "ACTIVE", "AT_RISK", "RUPTURES_PER_100", "REPAIRED_IN_WINDOW",
                "MEDIAN_CLIENT_POMP", "GAP_POMP"});
}

void AddRow(Table& table, const alliance::v1::TherapistSummary& s) {
  table.Add({s.therapist_id().empty() ? "(tenant)" : s.therapist_id(), std::to_string(s.dyads()),
             std::to_string(s.active_dyads().n()), FigureText(s.at_risk_share(), 100, 0, "%"),
             FigureText(s.ruptures_per_100_sessions(), 1, 1, ""),
             FigureText(s.repaired_in_window_share(), 100, 0, "%"),
             FigureText(s.median_latest_client_pomp(), 1, 1, ""),
             FigureText(s.mean_client_therapist_gap_pomp(), 1, 1, "")});
}

void Print(Table& table, const alliance::v1::TherapistSummary& s) {
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(s);
  } else {
    AddRow(table, s);
  }
}

void Footer(const Table& table) {
  if (absl::GetFlag(FLAGS_json)) return;
  table.Print();
  std::printf(
      "Each figure: the value shrunk toward the tenant's, its 95%% interval and n. For supervision,"
      " not ranking.\n");
}

}  // namespace

int Therapists(const Args& args) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      OpenChannel(absl::GetFlag(FLAGS_insights));
  if (!channel.ok()) {
    std::fprintf(stderr, "usage error: %s\n", std::string(channel.status().message()).c_str());
    return 2;
  }
  auto stub = alliance::v1::AllianceInsights::NewStub(*channel);
  const std::string tenant = absl::GetFlag(FLAGS_tenant);
  Table table = SummaryTable();
  if (!args.empty()) {
    grpc::ClientContext context;
    PrepareUnaryCall(&context);
    alliance::v1::GetTherapistSummaryRequest request;
    request.set_tenant_id(tenant);
    request.set_therapist_id(args.front());
    alliance::v1::GetTherapistSummaryResponse response;
    grpc::Status status = stub->GetTherapistSummary(&context, request, &response);
    if (!status.ok()) return CallFailed(status);
    Print(table, response.summary());
    Print(table, response.tenant());
    Footer(table);
    return 0;
  }
  std::string token;
  alliance::v1::TherapistSummary tenant_figures;
  for (int page = 0; page < kMaxPages; ++page) {
    grpc::ClientContext context;
    PrepareUnaryCall(&context);
    alliance::v1::ListTherapistSummariesRequest request;
    request.set_tenant_id(tenant);
    request.set_page_size(500);
    request.set_page_token(token);
    alliance::v1::ListTherapistSummariesResponse response;
    grpc::Status status = stub->ListTherapistSummaries(&context, request, &response);
    if (!status.ok()) return CallFailed(status);
    for (const alliance::v1::TherapistSummary& s : response.summaries()) Print(table, s);
    tenant_figures = response.tenant();
    token = response.next_page_token();
    if (token.empty()) break;
  }
  Print(table, tenant_figures);
  Footer(table);
  return 0;
}

}  // namespace alliance::ctl
