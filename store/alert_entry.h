// One entry of a partition's alert stream (format in docs/redis-layout.md), parsed once and
// shared by every reader: the watch fan-out, alert listing and alert lookup.
#ifndef ALLIANCE_STORE_ALERT_ENTRY_H_
#define ALLIANCE_STORE_ALERT_ENTRY_H_

#include <hiredis/hiredis.h>

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/v1/common.pb.h"
#include "store/stream_id.h"

namespace alliance {

struct AlertEntry {
  int partition = 0;
  StreamId id;
  // Header fields, readable without parsing the alert.
  std::string tenant;
  std::string therapist;
  std::string client;
  std::string alert_id;
  // Parsed alliance.v1.Alert; null when the entry's version is unsupported or it is malformed
  // (such entries still move positions forward, so they are skipped exactly once).
  std::shared_ptr<const alliance::v1::Alert> alert;
  // The alert's JSON while not parsed yet (see ParseAlertBody).
  std::string alert_json;
};

// Parses one [id, [field, value, ...]] element of an XRANGE/XREVRANGE/XREAD reply. nullptr
// when the element itself is not shaped like a stream entry.
std::unique_ptr<AlertEntry> ParseAlertEntry(int partition, const redisReply& element,
                                            bool parse_alert = true);

// Parses the alliance.v1.Alert JSON kept by ParseAlertEntry(..., parse_alert = false), so
// that entries of other tenants are never decoded.
void ParseAlertBody(AlertEntry* entry);

}  // namespace alliance

#endif  // ALLIANCE_STORE_ALERT_ENTRY_H_
