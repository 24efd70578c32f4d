// The in-memory dyad state (see dyad_state.h). Head and log are written in protobuf wire format
// by hand from their parts: the head's fields in number order with unknown fields last, the
// log's elements in the order they were added. Parsed together they give the record
// DyadRecord::SerializeAsString would describe (the unit tests compare the bytes after a
// parse and re-serialization).
#include "worker/dyad_state.h"

#include <algorithm>

#include "google/protobuf/util/time_util.h"
#include "worker/dyad_update.h"
#include "worker/engagement.h"
#include "worker/record_convert.h"

namespace alliance::worker {
namespace {

// Wire-format tags of DyadRecord's fields: (field number << 3) | wire type.
constexpr char kVersionTag = 0x08;    // 1, varint
constexpr char kTenantTag = 0x12;     // 2, length-delimited
constexpr char kTherapistTag = 0x1a;  // 3
constexpr char kClientTag = 0x22;     // 4
constexpr char kRatingTag = 0x2a;     // 5
constexpr char kPictureTag = 0x32;    // 6
constexpr char kAlertTag = 0x3a;      // 7

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void AppendField(char tag, std::string_view bytes, std::string* out) {
  out->push_back(tag);
  AppendVarint(bytes.size(), out);
  out->append(bytes);
}

void AppendStringField(char tag, std::string_view value, std::string* out) {
  if (!value.empty()) AppendField(tag, value, out);  // proto3 omits empty strings
}

}  // namespace

DyadState::RatingOrder DyadState::OrderOf(const internal::v1::StoredRating& r) {
  return {r.session_number(), static_cast<int>(r.rater()), r.instrument_id(), r.rating_id()};
}

DyadState::DyadState(const analytics::InstrumentRegistry& registry,
                     const analytics::RuleConfig& rules, const analytics::DyadKey& dyad,
                     const internal::v1::DyadRecord& record, bool log_stored)
    : registry_(&registry),
      rules_(&rules),
      dyad_(dyad),
      version_(record.version()),
      analyzer_(registry, rules, dyad) {
  analyzer_.AddAll(RatingsOf(record));
  bool sorted =
      std::is_sorted(record.ratings().begin(), record.ratings().end(),
                     [](const auto& a, const auto& b) { return OrderOf(a) < OrderOf(b); });
  if (sorted) {
    for (const internal::v1::StoredRating& r : record.ratings()) AppendRating(r);
  } else {
    // Every write sorts; an unsorted record comes from elsewhere: sort as the next write would
    // (and write the log whole).
    internal::v1::DyadRecord copy;
    *copy.mutable_ratings() = record.ratings();
    SortRatings(&copy);
    for (const internal::v1::StoredRating& r : copy.ratings()) AppendRating(r);
    log_stored = false;
  }
  log_stored_ = log_stored;
  for (const internal::v1::StoredRating& r : record.ratings()) rating_ids_.Insert(r.rating_id());
  for (const alliance::v1::Alert& a : record.alerts()) {
    alert_ids_.insert(a.alert_id());
    AppendField(kAlertTag, a.SerializeAsString(), &alerts_bytes_);
    FollowEngagement(a, &open_disengagement_);
  }
  record.GetReflection()->GetUnknownFields(record).SerializeToString(&unknown_bytes_);
}

void DyadState::AppendRating(const internal::v1::StoredRating& rating, std::string* also) {
  const size_t from = ratings_bytes_.size();
  AppendField(kRatingTag, rating.SerializeAsString(), &ratings_bytes_);
  if (also != nullptr) also->append(ratings_bytes_, from);
  last_rating_ = OrderOf(rating);
  has_ratings_ = true;
}

void DyadState::InsertRatingsOutOfOrder(const std::vector<internal::v1::StoredRating>& ratings) {
  // Rare (a late rating, or a second rater's rating of the latest session sorting before the
  // first's): decode the stored elements, sort, and write them again.
  internal::v1::DyadRecord all;
  (void)all.ParseFromString(ratings_bytes_);  // our own bytes: they parse
  for (const internal::v1::StoredRating& r : ratings) *all.add_ratings() = r;
  SortRatings(&all);
  ratings_bytes_ = all.SerializeAsString();  // only field 5 is set: exactly its elements
  last_rating_ = OrderOf(all.ratings(all.ratings_size() - 1));
  has_ratings_ = true;
}

DyadState::Update DyadState::Apply(std::span<const DecodedFeedback> incoming,
                                   const google::protobuf::Timestamp& now) {
  Update update;
  std::vector<internal::v1::StoredRating> fresh;
  std::vector<const analytics::Rating*> added;
  for (const DecodedFeedback& f : incoming) {
    if (!rating_ids_.Insert(f.rating.rating_id)) {
      ++update.duplicates;
      continue;
    }
    fresh.push_back(StoredFromRating(f.rating, f.session_id, f.idempotency_id));
    added.push_back(&f.rating);
  }
  if (fresh.empty()) return update;
  update.changed = true;
  update.ratings_added = static_cast<int>(fresh.size());

  std::sort(fresh.begin(), fresh.end(),
            [](const auto& a, const auto& b) { return OrderOf(a) < OrderOf(b); });
  // The log's new elements: appended when the stored log is ours and the ratings come after
  // the last one; else the log is written whole (late ratings re-sort it).
  std::string appended;
  if (!has_ratings_ || OrderOf(fresh.front()) > last_rating_) {
    for (const internal::v1::StoredRating& r : fresh) AppendRating(r, &appended);
  } else {
    InsertRatingsOutOfOrder(fresh);
    log_stored_ = false;
  }
  // Many ratings at once (a backlog): loading the whole history in one pass is cheaper than
  // adding them one by one; both give AnalyzeDyad's result.
  constexpr size_t kReloadAt = 8;
  // The alerts to look at: only those the analyzer reports as new when every rating went the
  // in-order way (then no event left the analysis, and every earlier one is in alert_ids_);
  // all of the analysis after a reload, a replay, or for the first apply after loading (the
  // rules may have changed since the record was written).
  bool scan_all = scan_all_alerts_;
  scan_all_alerts_ = false;
  std::vector<analytics::AlertEvent> reported;
  if (added.size() >= kReloadAt) {
    internal::v1::DyadRecord all;
    (void)all.ParseFromString(ratings_bytes_);  // our own bytes: they parse
    analyzer_ = analytics::DyadAnalyzer(*registry_, *rules_, dyad_);
    analyzer_.AddAll(RatingsOf(all));
    scan_all = true;
  } else {
    for (const analytics::Rating* r : added) {
      analytics::DyadAnalyzer::AddResult added_one = analyzer_.Add(*r);
      if (added_one.replayed) scan_all = true;
      for (analytics::AlertEvent& e : added_one.new_alerts) reported.push_back(std::move(e));
    }
  }
  ++version_;

  const analytics::DyadAnalysis& analysis = analyzer_.analysis();
  alliance::v1::Dyad picture = DyadFromAnalysis(dyad_, analysis);
  *picture.mutable_updated_at() = now;
  // As in UpdateDyad: every event of the analysis not raised before is new, in analysis order;
  // raised events stay in the record even if a late rating removed them from the analysis.
  auto raise = [&](const analytics::AlertEvent& event) {
    if (!alert_ids_.insert(event.alert_id).second) return;
    alliance::v1::Alert alert = AlertFromEvent(dyad_, event);
    *alert.mutable_detected_at() = now;
    const size_t from = alerts_bytes_.size();
    AppendField(kAlertTag, alert.SerializeAsString(), &alerts_bytes_);
    appended.append(alerts_bytes_, from);
    update.new_alerts.push_back(std::move(alert));
  };
  if (scan_all) {
    for (const analytics::AlertEvent& event : analysis.alerts) raise(event);
  } else {
    // The analysis keeps events ordered by session, rater, instrument and kind, later ones
    // after equal earlier ones: a stable sort of the reported events gives the same order.
    std::stable_sort(reported.begin(), reported.end(),
                     [](const analytics::AlertEvent& a, const analytics::AlertEvent& b) {
                       return std::tie(a.session_number, a.rater, a.instrument_id, a.kind) <
                              std::tie(b.session_number, b.rater, b.instrument_id, b.kind);
                     });
    for (const analytics::AlertEvent& event : reported) raise(event);
  }
  // Disengagement and re-engagement, after the rupture events of the same ratings. The
  // no-rating trigger is the timer's (EvaluateEngagement below): at time 0 it is never due,
  // so a backfill of old sessions does not raise and close an episode at every batch.
  const analytics::EngagementFacts facts = analytics::EngagementOf(analysis);
  analytics::EngagementEvaluation engagement =
      analytics::EvaluateEngagement(dyad_, *rules_, facts, open_disengagement_, 0);
  for (const analytics::AlertEvent& event : engagement.events) raise(event);
  open_disengagement_ = std::move(engagement.open);
  if (!open_disengagement_.has_value()) {
    update.disengagement_due_ms = analytics::StaleRuptureDueAt(*rules_, facts);
  }
  NoteWatch(&update);
  update.head = SerializeHead(picture);
  update.replace_log = !log_stored_;
  if (update.replace_log) {
    update.log.reserve(ratings_bytes_.size() + alerts_bytes_.size());
    update.log.append(ratings_bytes_).append(alerts_bytes_);
  } else {
    update.log = std::move(appended);
  }
  log_stored_ = true;  // once this write lands; if it does not, the caller drops the state
  return update;
}

DyadState::Update DyadState::EvaluateEngagement(const google::protobuf::Timestamp& now) {
  Update update;
  const analytics::DyadAnalysis& analysis = analyzer_.analysis();
  const analytics::EngagementFacts facts = analytics::EngagementOf(analysis);
  analytics::EngagementEvaluation engagement =
      analytics::EvaluateEngagement(dyad_, *rules_, facts, open_disengagement_,
                                    google::protobuf::util::TimeUtil::TimestampToMilliseconds(now));
  open_disengagement_ = std::move(engagement.open);
  if (!open_disengagement_.has_value()) {
    update.disengagement_due_ms = analytics::StaleRuptureDueAt(*rules_, facts);
  }
  std::string appended;
  for (const analytics::AlertEvent& event : engagement.events) {
    if (!alert_ids_.insert(event.alert_id).second) continue;  // raised before
    alliance::v1::Alert alert = AlertFromEvent(dyad_, event);
    *alert.mutable_detected_at() = now;
    const size_t from = alerts_bytes_.size();
    AppendField(kAlertTag, alert.SerializeAsString(), &alerts_bytes_);
    appended.append(alerts_bytes_, from);
    update.new_alerts.push_back(std::move(alert));
  }
  NoteWatch(&update);
  if (update.new_alerts.empty()) return update;
  update.changed = true;
  ++version_;
  alliance::v1::Dyad picture = DyadFromAnalysis(dyad_, analysis);
  *picture.mutable_updated_at() = now;
  update.head = SerializeHead(picture);
  update.replace_log = !log_stored_;
  if (update.replace_log) {
    update.log.append(ratings_bytes_).append(alerts_bytes_);
  } else {
    update.log = std::move(appended);
  }
  log_stored_ = true;  // once this write lands; if it does not, the caller drops the state
  return update;
}

void DyadState::NoteWatch(Update* update) {
  update->watch_changed = !watched_known_ || watched_due_ms_ != update->disengagement_due_ms;
  watched_known_ = true;
  watched_due_ms_ = update->disengagement_due_ms;
}

std::string DyadState::SerializeHead(const alliance::v1::Dyad& picture) const {
  std::string picture_bytes = picture.SerializeAsString();
  std::string out;
  out.reserve(16 + dyad_.tenant_id.size() + dyad_.therapist_id.size() + dyad_.client_id.size() +
              picture_bytes.size() + unknown_bytes_.size() + 24);
  if (version_ != 0) {
    out.push_back(kVersionTag);  // first: the apply script reads the version from here
    AppendVarint(static_cast<uint64_t>(version_), &out);
  }
  AppendStringField(kTenantTag, dyad_.tenant_id, &out);
  AppendStringField(kTherapistTag, dyad_.therapist_id, &out);
  AppendStringField(kClientTag, dyad_.client_id, &out);
  AppendField(kPictureTag, picture_bytes, &out);
  out.append(unknown_bytes_);
  return out;
}

}  // namespace alliance::worker
