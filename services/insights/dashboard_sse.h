// GET /api/v1/alerts/stream: WatchAlerts as Server-Sent Events (docs/dashboard.md, "Live
// alerts"). Each stream is one more subscriber of the process's WatchHub, admitted by the same
// WatchQuota slots and --max_watchers count as the gRPC WatchAlerts streams, so the limits hold
// for both together. It catches up from a cursor (the Last-Event-ID header, else ?cursor=) on the
// Redis pool, then goes live; the hub's threads write each event into the stream's bounded
// queue (no thread per stream). Events:
//   id: <cursor>\nevent: alert\ndata: <Alert as proto3 JSON>\n\n
//   : heartbeat <cursor>\nid: <cursor>\n\n         (the id line sets a browser's Last-Event-ID)
//   : end <why>; resume with cursor <cursor>\n\n    (last, when the server ends the stream)
// Errors before the stream opens are the JSON errors of dashboard_json.h (429 over a limit).
#ifndef ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_SSE_H_
#define ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_SSE_H_

#include <cstddef>

#include "common/http/http_server.h"
#include "services/insights/dashboard_session.h"
#include "services/insights/watch_reactor.h"

namespace alliance::insights {

// Bytes of a stream's queue per message of --watch_buffer: an alert event is ~0.5-1 KiB, so a
// stream holds at least as many events as a gRPC watcher buffers messages before it is cut
// off. The hub's batches are at most half of --watch_buffer messages, and one batch may still be
// in the socket write while the next is queued: 2 KiB keeps a reading client clear of the bound.
inline constexpr size_t kSseBytesPerMessage = 2048;

// The caller is the request's key or session cookie (dashboard_session.h).
void ServeAlertStream(WatchEnvironment* env, const RequestAuthenticator& auth,
                      const http::Request& request, http::Responder respond);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_SSE_H_
