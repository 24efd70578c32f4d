// Building one call of store/lua/apply_batch.lua (whose header states KEYS, ARGV and the
// reply): the analysed dyads of one partition, each with its new head, the log bytes to append
// (or to replace the log with), its index member, its new alerts and the feedback entries to
// acknowledge, then the deleted entries to acknowledge with them and the retention. Sent with
// the batch's other writes by FencedWriter (store/fenced_writes.h), which decodes the reply.
#ifndef ALLIANCE_STORE_BATCH_APPLY_H_
#define ALLIANCE_STORE_BATCH_APPLY_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "store/fenced_writes.h"
#include "store/keys.h"

namespace alliance {

// One new alert of a dyad, in the fields of the alert stream entry (store/alert_entry.h).
struct AlertWrite {
  std::string alert_id;
  std::string_view kind;      // AlertKind name
  std::string_view severity;  // Severity name
  std::string json;           // the alliance.v1.Alert as JSON
};

// What to write for one dyad.
struct DyadWrite {
  std::string_view tenant, therapist, client;
  int64_t expected_version = 0;  // the head's version when the state was read (0: none)
  std::string head;              // the new head (store/dyad_record_io.h)
  bool replace_log = false;      // the log bytes replace the log instead of extending it
  std::string log;
  std::string index_member;  // added to the tenant's index when not empty
  std::vector<AlertWrite> alerts;
  std::vector<std::string_view> entry_ids;  // the feedback entries applied, to acknowledge
  // The dyad's contribution to the therapist summaries (analytics::ContributionFields): it
  // replaces the stored one and the difference goes to the sums, with the head.
  std::vector<std::pair<std::string, int64_t>> summary;
  // The partition's disengagement watch (KeyLayout::DisengagementWatch): '' leaves it, '-'
  // removes `watch_member`, else the due time in Unix ms to score it with.
  std::string watch;
  std::string watch_member;
};

class ApplyBatchCall {
 public:
  // `erasures_at_read`: the partition's erasure counter when its entries were read.
  ApplyBatchCall(const KeyLayout& layout, int partition, std::string_view worker_id,
                 std::string_view erasures_at_read);

  int partition() const { return write_.partition; }
  size_t dyads() const { return write_.dyads; }

  // Adds a dyad whose head key (KeyLayout::DyadState) is `head_key`.
  void AddDyad(std::string head_key, DyadWrite dyad);

  // Completes the call: `extra_acks` (entries of the partition deleted meanwhile) are
  // acknowledged with it; `retention` (zero: none) is the expiry of what it writes. The call,
  // ready for FencedWriter::Send, carries `tag`.
  FencedWrite Finish(std::span<const std::string> extra_acks, absl::Duration retention,
                     size_t tag) &&;

 private:
  const KeyLayout& layout_;
  FencedWrite write_;
  std::vector<std::string> summary_keys_;  // KEYS after every dyad's own (see apply_batch.lua)
};

}  // namespace alliance

#endif  // ALLIANCE_STORE_BATCH_APPLY_H_
