// Therapist summary queries (see therapist_summaries.h) and the two RPC handlers, which take
// the same path as every unary RPC of InsightsService (Run: auth, validation, the Redis pool).
#include "services/insights/therapist_summaries.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/insights/access_log.h"
#include "services/insights/insights_service.h"
#include "services/insights/tenant.h"
#include "services/insights/tokens.h"
#include "store/summary_reads.h"

namespace alliance::insights {
namespace {

void FillFigure(const analytics::Figure& f, alliance::v1::SummaryFigure* out) {
  out->set_n(f.n);
  out->set_raw(f.raw);
  out->set_shrunken(f.shrunken);
  out->set_interval_low(f.low);
  out->set_interval_high(f.high);
  out->set_defined(f.defined);
}

}  // namespace

int64_t TodayUtc() {
  const int64_t seconds = absl::ToUnixSeconds(absl::Now());
  return seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
}

void FillTherapistSummary(const analytics::SummaryFigures& figures, const std::string& therapist,
                          alliance::v1::TherapistSummary* out) {
  out->set_therapist_id(therapist);
  out->set_dyads(figures.dyads);
  FillFigure(figures.active_dyads, out->mutable_active_dyads());
  FillFigure(figures.at_risk_share, out->mutable_at_risk_share());
  FillFigure(figures.ruptures_per_100, out->mutable_ruptures_per_100_sessions());
  FillFigure(figures.repaired_share, out->mutable_repaired_in_window_share());
  FillFigure(figures.median_client_pomp, out->mutable_median_latest_client_pomp());
  FillFigure(figures.mean_gap_pomp, out->mutable_mean_client_therapist_gap_pomp());
}

absl::Status TherapistSummaryQuery(RedisExecutor& redis, const KeyLayout& layout,
                                   const analytics::SummaryRules& rules, const std::string& tenant,
                                   const std::string& therapist, int64_t today,
                                   alliance::v1::GetTherapistSummaryResponse* response) {
  const std::string therapists[] = {therapist};
  absl::StatusOr<SummarySums> sums = ReadSummarySums(redis, layout, tenant, therapists);
  if (!sums.ok()) return sums.status();
  if (sums->therapists[0].dyads <= 0) {
    return absl::NotFoundError(absl::StrCat("no dyads of therapist ", therapist));
  }
  FillTherapistSummary(analytics::Summarize(sums->therapists[0], &sums->tenant, rules, today),
                       therapist, response->mutable_summary());
  FillTherapistSummary(analytics::Summarize(sums->tenant, nullptr, rules, today), "",
                       response->mutable_tenant());
  return absl::OkStatus();
}

absl::Status TherapistSummaryPage(RedisExecutor& redis, const KeyLayout& layout,
                                  const analytics::SummaryRules& rules, const std::string& tenant,
                                  const std::string& after, int page_size, int64_t today,
                                  alliance::v1::ListTherapistSummariesResponse* response) {
  absl::StatusOr<SummaryTherapistPage> page =
      ListSummaryTherapists(redis, layout, tenant, after, static_cast<size_t>(page_size));
  if (!page.ok()) return page.status();
  absl::StatusOr<SummarySums> sums = ReadSummarySums(redis, layout, tenant, page->therapists);
  if (!sums.ok()) return sums.status();
  for (size_t i = 0; i < page->therapists.size(); ++i) {
    // A therapist whose last dyad went between the two reads has nothing to show.
    if (sums->therapists[i].dyads <= 0) continue;
    FillTherapistSummary(analytics::Summarize(sums->therapists[i], &sums->tenant, rules, today),
                         page->therapists[i], response->add_summaries());
  }
  FillTherapistSummary(analytics::Summarize(sums->tenant, nullptr, rules, today), "",
                       response->mutable_tenant());
  if (page->more && !page->therapists.empty()) {
    response->set_next_page_token(EncodeTherapistPageToken(page->therapists.back()));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* InsightsService::GetTherapistSummary(
    grpc::CallbackServerContext* context, const alliance::v1::GetTherapistSummaryRequest* request,
    alliance::v1::GetTherapistSummaryResponse* response) {
  absl::StatusOr<Caller> caller =
      ResolveCaller(*authorizer_, *context, Scope::kRead, request->tenant_id());
  absl::Status invalid = CheckId("therapist_id", request->therapist_id(), false);
  return Run(context, "GetTherapistSummary", caller.status(), invalid,
             [this, request, response, caller = caller.value_or(Caller{})](RedisExecutor& redis) {
               absl::Status s =
                   TherapistSummaryQuery(redis, *layout_, limits_.summaries, caller.tenant,
                                         request->therapist_id(), TodayUtc(), response);
               if (s.ok()) LogAccess("GetTherapistSummary", caller, {}, {}, true);
               return s;
             });
}

grpc::ServerUnaryReactor* InsightsService::ListTherapistSummaries(
    grpc::CallbackServerContext* context,
    const alliance::v1::ListTherapistSummariesRequest* request,
    alliance::v1::ListTherapistSummariesResponse* response) {
  absl::StatusOr<Caller> caller =
      ResolveCaller(*authorizer_, *context, Scope::kRead, request->tenant_id());
  absl::Status invalid;
  int page_size = request->page_size() == 0 ? 50 : std::min(request->page_size(), 500);
  if (request->page_size() < 0)
    invalid = absl::InvalidArgumentError("page_size: must not be negative");
  std::string after;
  if (invalid.ok() && !request->page_token().empty()) {
    absl::StatusOr<std::string> decoded = DecodeTherapistPageToken(request->page_token());
    if (decoded.ok()) {
      after = *std::move(decoded);
    } else {
      invalid = decoded.status();
    }
  }
  return Run(
      context, "ListTherapistSummaries", caller.status(), invalid,
      [this, after, page_size, response, caller = caller.value_or(Caller{})](RedisExecutor& redis) {
        absl::Status s = TherapistSummaryPage(redis, *layout_, limits_.summaries, caller.tenant,
                                              after, page_size, TodayUtc(), response);
        if (s.ok()) LogAccess("ListTherapistSummaries", caller, {}, {}, true);
        return s;
      });
}

}  // namespace alliance::insights
