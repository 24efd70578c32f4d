// The HTTP/1.1 front of Alliance's services (FHIR endpoints, later the dashboard API with
// Server-Sent Events): a router of "/a/{id}" patterns and an asynchronous server (Boost.Beast
// on one io_context, `threads` threads, any number of connections) with keep-alive, body limit,
// read and idle timeouts, a connection bound, TLS/mTLS with certificate reload, graceful
// shutdown, and long-lived streamed responses with a per-stream queue bound. Beast and Asio stay
// in http_server.cc: this header is plain C++ and Abseil. docs/http.md describes the design.
#ifndef ALLIANCE_COMMON_HTTP_HTTP_SERVER_H_
#define ALLIANCE_COMMON_HTTP_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace alliance::http {

struct Request {
  std::string method;                                      // "GET", "POST", ...
  std::string path;                                        // decoded path, no query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<std::string> path_params;  // captures of the route's {name} segments, in order
  std::string route;                     // the matched pattern, e.g. "/fhir/Questionnaire/{id}"
  std::string body;
  std::string peer;                                          // "ip:port", for logs
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order

  // Header value by case-insensitive name; empty when absent (the first one when repeated).
  std::string_view Header(std::string_view name) const;
  // First value of a query parameter; empty when absent.
  std::string_view QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers. "Cache-Control: no-store" is added unless one of these is Cache-Control.
  // Content-Length, Connection and Transfer-Encoding are the server's; values with CR or LF are
  // dropped.
  std::vector<std::pair<std::string, std::string>> headers;
};

// What ended a stream, given to StreamOptions::on_close.
//   OK: Finish() was called and the end was written.
//   UNAVAILABLE: the peer went away (or a write failed).
//   RESOURCE_EXHAUSTED: the queue passed max_queued_bytes (a client that does not read).
//   CANCELLED: the server shut down.
using StreamCloseCallback = std::function<void(absl::Status)>;

struct StreamOptions {
  int status = 200;
  std::string content_type = "text/event-stream";
  std::vector<std::pair<std::string, std::string>> headers;  // as Response::headers
  // Bytes written but not yet taken by the peer's socket that one stream may hold; a Write
  // beyond it cuts the stream off (RESOURCE_EXHAUSTED).
  size_t max_queued_bytes = 1 << 20;
  // Called exactly once, on a server thread, when the stream ends for any reason.
  StreamCloseCallback on_close;
};

namespace internal {
class Exchange;
class StreamState;
}  // namespace internal

// A long-lived response (chunked transfer encoding; the connection closes after it). Write and
// Finish may be called from any thread. Holding it keeps nothing but the stream's own state:
// after the stream closes Write returns false and Finish does nothing.
class ResponseStream {
 public:
  explicit ResponseStream(std::shared_ptr<internal::StreamState> state);
  ~ResponseStream();
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;

  // Queues `chunk` (not copied again). False when the stream is closed, or when this chunk
  // would pass max_queued_bytes: then the stream is cut off.
  bool Write(std::string chunk);
  // Writes the end of the stream once everything queued is written, then closes it (OK).
  void Finish();
  bool closed() const;
  // Bytes queued and not yet taken by the socket.
  size_t queued_bytes() const;

 private:
  std::shared_ptr<internal::StreamState> state_;
};

// Completes one request exactly once, from any thread. Dropping it without answering answers
// 500 (and logs http_handler_dropped_response with the route).
class Responder {
 public:
  explicit Responder(std::shared_ptr<internal::Exchange> exchange);
  Responder(Responder&&) noexcept;
  Responder& operator=(Responder&&) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  void operator()(Response response) &&;
  // Answers with a long-lived stream instead: status and headers are sent at once, then the
  // body is what the returned stream writes.
  std::shared_ptr<ResponseStream> Stream(StreamOptions options) &&;

 private:
  std::shared_ptr<internal::Exchange> exchange_;
};

// Runs on a server thread: hand anything slow (Redis, disk) to other threads and answer from
// there through the Responder.
using Handler = std::function<void(Request, Responder)>;

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // `pattern` like "/fhir/Questionnaire/{id}": literal segments, and {x}, which matches one
  // non-empty path segment (captured into Request::path_params). Routes are tried in the order
  // added.
  void Handle(std::string method, std::string pattern, Handler handler);

  enum class Match { kFound, kNotFound, kMethodNotAllowed };
  // Matches a decoded request path split into segments. kFound: sets *handler, *pattern and
  // *params. kMethodNotAllowed: *allow lists the methods the path has ("GET, POST").
  Match Find(std::string_view method, const std::vector<std::string>& segments,
             const Handler** handler, std::string* pattern, std::vector<std::string>* params,
             std::string* allow) const;

 private:
  struct Route;
  std::vector<Route> routes_;
};

// TLS of the HTTP port: when cert_file and key_file are set, the port speaks HTTPS only.
struct TlsOptions {
  std::string cert_file;       // PEM certificate chain
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // when set, clients must present a certificate it signed
  // The three files are re-read this often; changed files that load are used for new
  // connections, a bad new set is logged (http_tls_reload_failed) and the old one kept.
  absl::Duration reload_interval = absl::Seconds(60);
  bool enabled() const { return !cert_file.empty(); }
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: pick a free one (see Server::port())
  size_t max_body_bytes = 1 << 20;
  // A keep-alive connection waiting this long for its next request is closed.
  absl::Duration idle_timeout = absl::Seconds(60);
  // Bound on the TLS handshake and on reading one request (the first request's header counts
  // from the connect; a later request's body from its header).
  absl::Duration read_timeout = absl::Seconds(10);
  // Connections beyond this many are closed as soon as they are accepted.
  int max_connections = 2048;
  int threads = 1;
  TlsOptions tls;
};

class Server {
 public:
  // Listens and starts the threads. INVALID_ARGUMENT for bad options or TLS files,
  // UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options, Router router);
  ~Server();  // Shutdown(now) unless done

  int port() const;
  // Connections open now.
  int connections() const;
  // Stops accepting and closes idle connections and streams (CANCELLED); requests in flight
  // may finish until `deadline`, then the rest are closed. Returns when the threads are done.
  void Shutdown(absl::Time deadline);

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace alliance::http

#endif  // ALLIANCE_COMMON_HTTP_HTTP_SERVER_H_
