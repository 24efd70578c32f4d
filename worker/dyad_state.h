// A dyad's state kept in memory between batches: the incremental analyzer plus the record's
// parts in serialized form, so that applying a new rating costs an analyzer step and the
// bytes of the new rating instead of parsing, re-analysing and re-serializing the whole
// history. Writes the record as head and log (store/dyad_record_io.h): a new head, and the
// log's new elements to append (or the whole log when the stored one cannot be appended to).
// The stored record then reads as the same record, alerts and counts as UpdateDyad
// (dyad_update.h) produces, which stays the reference the tests compare it with.
#ifndef ALLIANCE_WORKER_DYAD_STATE_H_
#define ALLIANCE_WORKER_DYAD_STATE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "alliance/internal/v1/records.pb.h"
#include "alliance/v1/common.pb.h"
#include "analytics/disengagement.h"
#include "analytics/dyad_analyzer.h"
#include "analytics/rating_id_set.h"
#include "analytics/registry.h"
#include "analytics/rules.h"
#include "google/protobuf/timestamp.pb.h"
#include "store/feedback_entry.h"

namespace alliance::worker {

class DyadState {
 public:
  // `record` is the stored record (empty for a new dyad); `log_stored`: its ratings and alerts
  // are in the log key, in the order this state keeps them (else the next write replaces the
  // log). `registry` and `rules` must outlive the state.
  DyadState(const analytics::InstrumentRegistry& registry, const analytics::RuleConfig& rules,
            const analytics::DyadKey& dyad, const internal::v1::DyadRecord& record,
            bool log_stored);
  // The state keeps a pointer to `rules`: a temporary would be gone before the first Apply.
  DyadState(const analytics::InstrumentRegistry& registry, analytics::RuleConfig&& rules,
            const analytics::DyadKey& dyad, const internal::v1::DyadRecord& record,
            bool log_stored) = delete;

  struct Update {
    // False when every incoming rating was already applied: nothing to write or emit.
    bool changed = false;
    // When changed: the record's head (every field but ratings and alerts, version first, as
    // the apply script reads it), and the log bytes to append to the stored log, or to replace
    // it with when `replace_log`.
    std::string head;
    std::string log;
    bool replace_log = false;
    std::vector<alliance::v1::Alert> new_alerts;
    int ratings_added = 0;
    int duplicates = 0;
    // When the no-rating-during-rupture trigger becomes due (Unix ms), if it can
    // (analytics::StaleRuptureDueAt with no disengagement episode open).
    std::optional<int64_t> disengagement_due_ms;
    // disengagement_due_ms differs from what this state last wrote to the watch (or the state
    // has not written it yet): the write must set it.
    bool watch_changed = false;
  };

  // Applies `incoming` (deduplicated by rating id) and advances the version when anything is
  // new. The state then describes the record as written; if the write does not land, the
  // caller must drop the state.
  Update Apply(std::span<const DecodedFeedback> incoming, const google::protobuf::Timestamp& now);

  // Evaluates disengagement (analytics/disengagement.h) at `now` without a new rating, for the
  // timer: changed (a new version with the new alerts) only when an event is raised.
  Update EvaluateEngagement(const google::protobuf::Timestamp& now);

  // Version of the record this state describes (0: never written).
  int64_t version() const { return version_; }
  // The analysis of the record this state describes.
  const analytics::DyadAnalysis& analysis() const { return analyzer_.analysis(); }

 private:
  // SortRatings' order: session, rater, instrument, rating id.
  using RatingOrder = std::tuple<int32_t, int, std::string, std::string>;
  static RatingOrder OrderOf(const internal::v1::StoredRating& r);

  // Appends the rating's element to ratings_bytes_ (and to `also`, if given).
  void AppendRating(const internal::v1::StoredRating& rating, std::string* also = nullptr);
  void InsertRatingsOutOfOrder(const std::vector<internal::v1::StoredRating>& ratings);
  std::string SerializeHead(const alliance::v1::Dyad& picture) const;

  const analytics::InstrumentRegistry* registry_;
  const analytics::RuleConfig* rules_;  // the worker's, outlives the state
  analytics::DyadKey dyad_;
  int64_t version_ = 0;
  analytics::DyadAnalyzer analyzer_;
  analytics::RatingIdSet rating_ids_;
  // Field 5 elements (tag, length, StoredRating) in SortRatings' order, and the last one's key.
  std::string ratings_bytes_;
  RatingOrder last_rating_;
  bool has_ratings_ = false;
  absl::flat_hash_set<std::string> alert_ids_;
  // The next Apply compares every event of the analysis with alert_ids_ (see Apply).
  bool scan_all_alerts_ = true;
  // Field 7 elements in the order they were raised.
  std::string alerts_bytes_;
  // Top-level fields this build does not know, kept (in the head) as a full parse and
  // rewrite would.
  std::string unknown_bytes_;
  // The stored log holds exactly ratings_bytes_' and alerts_bytes_' elements, each in order.
  bool log_stored_ = false;
  // The disengagement episode open after the alerts raised so far (analytics/disengagement.h).
  std::optional<analytics::OpenDisengagement> open_disengagement_;
  // The due time last written to the disengagement watch, once known.
  std::optional<int64_t> watched_due_ms_;
  bool watched_known_ = false;
  void NoteWatch(Update* update);
};

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_DYAD_STATE_H_
