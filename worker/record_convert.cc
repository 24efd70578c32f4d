// Analytics structs <-> alliance protos. Enum values are shared by design, so enums convert by
// cast; timestamps are epoch milliseconds on the analytics side.
#include "worker/record_convert.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "worker/fast_json.h"

namespace alliance::worker {
namespace {

namespace pb = alliance::v1;
using google::protobuf::util::TimeUtil;

int64_t ToMillis(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000 + t.nanos() / 1000000;
}

void SetMillis(int64_t ms, google::protobuf::Timestamp* t) {
  int64_t seconds = ms / 1000;
  int64_t rest = ms % 1000;
  if (rest < 0) {
    rest += 1000;
    seconds -= 1;
  }
  t->set_seconds(seconds);
  t->set_nanos(static_cast<int32_t>(rest * 1000000));
}

void FillSubscales(const std::vector<analytics::SubscaleScore>& from,
                   google::protobuf::RepeatedPtrField<pb::SubscaleScore>* to) {
  for (const analytics::SubscaleScore& s : from) {
    pb::SubscaleScore* out = to->Add();
    out->set_name(s.name);
    out->set_score(s.score);
    out->set_pomp(s.pomp);
  }
}

void FillFlaggedItems(const std::vector<analytics::FlaggedItem>& from,
                      google::protobuf::RepeatedPtrField<pb::FlaggedItem>* to) {
  for (const analytics::FlaggedItem& f : from) {
    pb::FlaggedItem* out = to->Add();
    out->set_item(f.item);
    out->set_value(f.value);
    out->set_check_value(f.check_value);
  }
}

void FillSeries(const analytics::SeriesPicture& s, pb::SeriesPicture* out) {
  out->set_rater(static_cast<pb::Rater>(s.rater));
  out->set_instrument_id(s.instrument_id);
  out->set_session_count(s.session_count);
  out->set_last_session_number(s.last_session_number);
  out->set_latest(s.latest);
  out->set_latest_pomp(s.latest_pomp);
  out->set_ewma(s.ewma);
  out->set_recent_mean(s.recent_mean);
  out->set_baseline(s.baseline);
  out->set_has_baseline(s.has_baseline);
  out->set_slope(s.slope);
  out->set_within_sd(s.within_sd);
  out->set_trend(static_cast<pb::Trend>(s.trend));
  FillSubscales(s.latest_subscales, out->mutable_latest_subscales());
  if (s.open_rupture.has_value()) {
    const analytics::OpenRupture& r = *s.open_rupture;
    pb::OpenRupture* open = out->mutable_open_rupture();
    open->set_episode_id(r.episode_id);
    open->set_reason(static_cast<pb::ReasonCode>(r.reason));
    open->set_onset_session(r.onset_session);
    open->set_pre_rupture_level(r.pre_rupture_level);
    open->set_sessions_since_onset(r.sessions_since_onset);
    open->set_escalated(r.escalated);
  }
  out->set_rupture_count(s.rupture_count);
  out->set_repaired_count(s.repaired_count);
  out->set_below_cutoff(s.below_cutoff);
  FillFlaggedItems(s.latest_flagged_items, out->mutable_latest_flagged_items());
}

}  // namespace

analytics::Rating RatingFromStored(const internal::v1::StoredRating& stored) {
  analytics::Rating r;
  r.rating_id = stored.rating_id();
  r.session_number = stored.session_number();
  r.session_time_ms = ToMillis(stored.session_time());
  r.rater = static_cast<analytics::Rater>(stored.rater());
  r.instrument_id = stored.instrument_id();
  r.answers.assign(stored.answers().begin(), stored.answers().end());
  return r;
}

internal::v1::StoredRating StoredFromRating(const analytics::Rating& rating,
                                            std::string_view session_id,
                                            std::string_view idempotency_id) {
  internal::v1::StoredRating s;
  s.set_rating_id(rating.rating_id);
  s.set_session_number(rating.session_number);
  SetMillis(rating.session_time_ms, s.mutable_session_time());
  s.set_rater(static_cast<pb::Rater>(rating.rater));
  s.set_instrument_id(rating.instrument_id);
  for (double a : rating.answers) s.add_answers(a);
  s.set_session_id(std::string(session_id));
  s.set_idempotency_id(std::string(idempotency_id));
  return s;
}

pb::Dyad DyadFromAnalysis(const analytics::DyadKey& key, const analytics::DyadAnalysis& analysis) {
  pb::Dyad dyad;
  dyad.set_tenant_id(key.tenant_id);
  dyad.set_therapist_id(key.therapist_id);
  dyad.set_client_id(key.client_id);
  for (const analytics::SeriesPicture& s : analysis.series) FillSeries(s, dyad.add_series());
  if (analysis.gap.has_value()) {
    pb::RaterGap* gap = dyad.mutable_gap();
    gap->set_sessions_compared(analysis.gap->sessions_compared);
    gap->set_latest_gap_pomp(analysis.gap->latest_gap_pomp);
    gap->set_mean_gap_pomp(analysis.gap->mean_gap_pomp);
  }
  dyad.set_open_ruptures(analysis.open_ruptures);
  dyad.set_at_risk(analysis.at_risk);
  dyad.set_unrepaired(analysis.unrepaired);
  dyad.set_ratings_applied(analysis.ratings_applied);
  return dyad;
}

pb::Alert AlertFromEvent(const analytics::DyadKey& key, const analytics::AlertEvent& event) {
  pb::Alert alert;
  alert.set_alert_id(event.alert_id);
  alert.set_tenant_id(key.tenant_id);
  alert.set_therapist_id(key.therapist_id);
  alert.set_client_id(key.client_id);
  alert.set_rater(static_cast<pb::Rater>(event.rater));
  alert.set_instrument_id(event.instrument_id);
  alert.set_kind(static_cast<pb::AlertKind>(event.kind));
  alert.set_reason(static_cast<pb::ReasonCode>(event.reason));
  alert.set_severity(static_cast<pb::Severity>(event.severity));
  alert.set_session_number(event.session_number);
  SetMillis(event.session_time_ms, alert.mutable_session_time());
  alert.set_episode_id(event.episode_id);
  pb::Evidence* evidence = alert.mutable_evidence();
  evidence->set_rule(event.evidence.rule);
  evidence->set_before(event.evidence.before);
  evidence->set_after(event.evidence.after);
  evidence->set_threshold(event.evidence.threshold);
  evidence->set_statistic(event.evidence.statistic);
  for (analytics::Reason r : event.rules_fired) {
    alert.add_rules_fired(static_cast<pb::ReasonCode>(r));
  }
  alert.set_subscale_fell_most(event.subscale_fell_most);
  alert.set_subscale_drop_pomp(event.subscale_drop_pomp);
  for (const std::string& f : event.factors) alert.add_factors(f);
  alert.set_suggested_focus(event.suggested_focus);
  alert.set_status(pb::ALERT_STATUS_OPEN);
  return alert;
}

std::string_view AlertKindName(pb::AlertKind kind) {
  switch (kind) {
    case pb::ALERT_KIND_RUPTURE:
      return "rupture";
    case pb::ALERT_KIND_REPAIRED:
      return "repaired";
    case pb::ALERT_KIND_UNREPAIRED:
      return "unrepaired";
    case pb::ALERT_KIND_DISENGAGEMENT:
      return "disengagement";
    case pb::ALERT_KIND_REENGAGED:
      return "reengaged";
    default:
      return "unspecified";
  }
}

std::string_view SeverityName(pb::Severity severity) {
  switch (severity) {
    case pb::SEVERITY_INFO:
      return "info";
    case pb::SEVERITY_WARNING:
      return "warning";
    case pb::SEVERITY_HIGH:
      return "high";
    case pb::SEVERITY_CRITICAL:
      return "critical";
    default:
      return "unspecified";
  }
}

std::string AlertJson(const pb::Alert& alert) {
  std::string json;
  json.reserve(1024);
  if (AppendFastJson(alert, &json)) return json;
  json.clear();
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = false;
  // The message is built by us and always representable; a failure leaves json empty.
  (void)google::protobuf::util::MessageToJsonString(alert, &json, options);
  return json;
}

}  // namespace alliance::worker
