// The asynchronous HTTP/1.1 server behind http_server.h, on Boost.Beast and Boost.Asio (the only
// translation unit that includes them, besides none: keep it that way, Beast is slow to
// compile). One io_context runs on `threads` threads; each connection is a Session on its own
// strand, so a connection's state is touched by one thread at a time while Responders and
// ResponseStreams post to it from any thread. Error-code overloads throughout: no exception
// leaves this file.
#include "common/http/http_server.h"

#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/process.h"
#include "common/strings.h"

namespace alliance::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace internal {

class Session;
class Exchange;

namespace {

std::chrono::steady_clock::duration Chrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

// "%41" -> "A"; '+' is a space only in a query. nullopt for a bad escape.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Str(beast::string_view s) { return std::string(s.data(), s.size()); }

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

Response ErrorResponse(int status, std::string_view error) {
  Response r;
  r.status = status;
  r.body = absl::StrCat("{\"error\":\"", Absl(error), "\"}");
  return r;
}

// Reads the TLS files and builds a server context; INVALID_ARGUMENT naming what failed.
absl::StatusOr<std::shared_ptr<net::ssl::context>> BuildTlsContext(const std::string& cert,
                                                                   const std::string& key,
                                                                   const std::string& client_ca) {
  try {
    auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
    ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                     net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    error_code ec;
    ctx->use_certificate_chain(net::buffer(cert), ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("TLS certificate: ", ec.message()));
    ctx->use_private_key(net::buffer(key), net::ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("TLS private key: ", ec.message()));
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
      return absl::InvalidArgumentError("TLS private key does not match the certificate");
    }
    if (!client_ca.empty()) {
      ctx->add_certificate_authority(net::buffer(client_ca), ec);
      if (ec) return absl::InvalidArgumentError(absl::StrCat("TLS client CA: ", ec.message()));
      ctx->set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert, ec);
      if (ec) return absl::InvalidArgumentError(absl::StrCat("TLS verify mode: ", ec.message()));
    }
    return ctx;
  } catch (const std::exception& e) {  // the context constructor throws when OpenSSL fails
    return absl::InvalidArgumentError(absl::StrCat("TLS context: ", e.what()));
  }
}

}  // namespace

// Shared by the server, its sessions, and the Responders and streams that may outlive it: the
// io_context lives as long as anything that may post to it.
struct Core {
  net::io_context ioc;
  ServerOptions options;
  Router router;
  std::atomic<bool> shutting_down{false};

  absl::Mutex mu;
  bool stopped ABSL_GUARDED_BY(mu) = false;  // threads joined: nothing may be posted any more
  absl::flat_hash_map<uint64_t, std::weak_ptr<Session>> sessions ABSL_GUARDED_BY(mu);
  absl::CondVar drained;  // signalled when `sessions` becomes empty
  uint64_t next_id ABSL_GUARDED_BY(mu) = 0;
  std::shared_ptr<net::ssl::context> tls ABSL_GUARDED_BY(mu);  // for new connections
  std::string tls_files ABSL_GUARDED_BY(mu);                   // contents it was built from

  // Posts `fn` unless the server has stopped (then `fn` is dropped and false returned).
  template <class Fn>
  bool Post(const net::any_io_executor& ex, Fn&& fn) {
    absl::MutexLock lock(&mu);
    if (stopped) return false;
    net::post(ex, std::forward<Fn>(fn));
    return true;
  }
  size_t SessionCount() {
    absl::MutexLock lock(&mu);
    return sessions.size();
  }
};

// A stream's queue, shared by the ResponseStream (any thread) and its session (its strand).
class StreamState {
 public:
  StreamState(std::shared_ptr<Core> core, net::any_io_executor ex, std::weak_ptr<Session> session,
              size_t max_queued_bytes, StreamCloseCallback on_close)
      : core_(std::move(core)),
        ex_(std::move(ex)),
        session_(std::move(session)),
        max_(max_queued_bytes),
        on_close_(std::move(on_close)) {}

  // The status line and headers, queued before anything else.
  void QueueHead(std::string head) {
    absl::MutexLock lock(&mu_);
    queued_ += head.size();
    queue_.push_back(std::move(head));
    writing_ = true;  // the session starts the pump when it takes the stream
  }
  bool Write(std::string chunk);
  void Finish();
  bool closed() const {
    absl::MutexLock lock(&mu_);
    return closed_;
  }
  size_t queued_bytes() const {
    absl::MutexLock lock(&mu_);
    return queued_;
  }

  // Strand side. Moves what is queued into `batch`; false when nothing is (then the pump
  // stops; *finished when the end was written).
  bool TakeBatch(std::vector<std::string>* batch, bool* finished) {
    absl::MutexLock lock(&mu_);
    if (closed_ || queue_.empty()) {
      writing_ = false;
      *finished = finishing_ && !closed_;
      return false;
    }
    while (!queue_.empty()) {
      batch->push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return true;
  }
  void Written(size_t bytes) {
    absl::MutexLock lock(&mu_);
    queued_ -= std::min(queued_, bytes);
  }
  // Marks the stream closed and calls on_close once with `reason`.
  void ReportClose(absl::Status reason) {
    StreamCloseCallback callback;
    {
      absl::MutexLock lock(&mu_);
      closed_ = true;
      if (reported_) return;
      reported_ = true;
      callback = std::move(on_close_);
    }
    if (callback) callback(std::move(reason));
  }

 private:
  void PostPump();
  void PostCut();

  const std::shared_ptr<Core> core_;
  const net::any_io_executor ex_;
  const std::weak_ptr<Session> session_;
  const size_t max_;
  mutable absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_ ABSL_GUARDED_BY(mu_) = 0;  // in queue_ and in the write under way
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool reported_ ABSL_GUARDED_BY(mu_) = false;
  StreamCloseCallback on_close_ ABSL_GUARDED_BY(mu_);
};

// One connection. Every member function runs on the session's strand (ex_), except the
// constructor and the Post* entry points.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Core> core, tcp::socket socket,
          std::shared_ptr<net::ssl::context> tls_context)
      : core_(std::move(core)), tls_context_(std::move(tls_context)), ex_(socket.get_executor()) {
    error_code ec;
    tcp::endpoint remote = socket.remote_endpoint(ec);
    if (!ec) peer_ = absl::StrCat(remote.address().to_string(), ":", remote.port());
    if (tls_context_) {
      tls_.emplace(std::move(socket), *tls_context_);
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  const net::any_io_executor& executor() const { return ex_; }
  const std::shared_ptr<Core>& core() const { return core_; }
  void set_id(uint64_t id) { id_ = id; }

  void Start() {
    if (tls_) {
      Tcp().expires_after(Chrono(core_->options.read_timeout));
      tls_->async_handshake(net::ssl::stream_base::server,
                            [self = shared_from_this()](error_code ec) {
                              if (ec) return self->Close();
                              self->ReadRequest();
                            });
    } else {
      ReadRequest();
    }
  }

  // Server shutdown: idle connections and streams close now; a request in flight is answered
  // and then the connection closes.
  void OnShutdown() {
    if (state_ == State::kReading) Close();
    if (state_ == State::kStreaming) Close(absl::CancelledError("server shutting down"));
  }

  void Close(absl::Status stream_reason = absl::UnavailableError("peer went away")) {
    if (closed_) return;
    closed_ = true;
    error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    Tcp().close();
    {
      absl::MutexLock lock(&core_->mu);
      core_->sessions.erase(id_);
      if (core_->sessions.empty()) core_->drained.SignalAll();
    }
    if (stream_) stream_->ReportClose(std::move(stream_reason));
  }

  void WriteResponse(Response response) {
    if (closed_ || state_ != State::kHandling) return;
    state_ = State::kWriting;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(response.status));
    res->set(bhttp::field::content_type, response.content_type);
    bool cache_control = false;
    for (auto& [name, value] : response.headers) {
      if (HasCrLf(name) || HasCrLf(value) || name.empty()) continue;
      bhttp::field f = bhttp::string_to_field(name);
      if (f == bhttp::field::content_length || f == bhttp::field::connection ||
          f == bhttp::field::transfer_encoding) {
        continue;
      }
      if (f == bhttp::field::cache_control) cache_control = true;
      res->insert(name, value);
    }
    if (!cache_control) res->set(bhttp::field::cache_control, "no-store");
    res->body() = std::move(response.body);
    bool keep = keep_alive_ && !core_->shutting_down.load();
    res->keep_alive(keep);
    res->prepare_payload();
    Tcp().expires_after(Chrono(core_->options.idle_timeout));
    WithStream([&](auto& stream) {
      bhttp::async_write(stream, *res,
                         [self = shared_from_this(), res, keep](error_code ec, size_t) {
                           if (ec) return self->Close();
                           if (!keep) return self->linger_ ? self->LingeringClose() : self->Close();
                           self->first_request_ = false;
                           self->ReadRequest();
                         });
    });
  }

  void StartStream(std::shared_ptr<StreamState> state) {
    if (closed_ || state_ != State::kHandling) {
      state->ReportClose(absl::UnavailableError("connection closed"));
      return;
    }
    state_ = State::kStreaming;
    stream_ = std::move(state);
    Tcp().expires_never();
    Pump();
    WatchPeer();
  }

  // Writes what the stream has queued, one batch at a time.
  void Pump() {
    if (closed_ || batch_in_flight_) return;
    bool finished = false;
    batch_.clear();
    if (!stream_->TakeBatch(&batch_, &finished)) {
      if (finished) Close(absl::OkStatus());
      return;
    }
    batch_in_flight_ = true;
    std::vector<net::const_buffer> buffers;
    size_t bytes = 0;
    for (const std::string& b : batch_) {
      buffers.push_back(net::buffer(b));
      bytes += b.size();
    }
    WithStream([&](auto& stream) {
      net::async_write(stream, buffers, [self = shared_from_this(), bytes](error_code ec, size_t) {
        self->batch_in_flight_ = false;
        if (ec) return self->Close(absl::UnavailableError("write failed"));
        self->stream_->Written(bytes);
        self->Pump();
      });
    });
  }

 private:
  enum class State { kReading, kHandling, kWriting, kStreaming };

  beast::tcp_stream& Tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  template <class Fn>
  void WithStream(Fn&& fn) {
    if (tls_) {
      fn(*tls_);
    } else {
      fn(*plain_);
    }
  }

  void ReadRequest() {
    if (closed_) return;
    if (core_->shutting_down.load()) return Close();
    state_ = State::kReading;
    parser_.emplace();
    parser_->body_limit(core_->options.max_body_bytes);
    parser_->header_limit(16 * 1024);
    Tcp().expires_after(
        Chrono(first_request_ ? core_->options.read_timeout : core_->options.idle_timeout));
    WithStream([&](auto& stream) {
      bhttp::async_read_header(stream, buffer_, *parser_,
                               [self = shared_from_this()](error_code ec, size_t) {
                                 // Beast checks a declared Content-Length here already.
                                 if (ec == bhttp::error::body_limit) return self->RefuseTooLarge();
                                 if (ec) return self->Close();
                                 self->OnHeader();
                               });
    });
  }

  void OnHeader() {
    Tcp().expires_after(Chrono(core_->options.read_timeout));
    const auto& header = parser_->get();
    version_ = header.version();
    keep_alive_ = header.keep_alive();
    if (auto length = parser_->content_length();
        length && *length > core_->options.max_body_bytes) {
      return RefuseTooLarge();
    }
    if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      WithStream([&](auto& stream) {
        net::async_write(stream, net::buffer(kContinue.data(), kContinue.size()),
                         [self = shared_from_this()](error_code ec, size_t) {
                           if (ec) return self->Close();
                           self->ReadBody();
                         });
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    WithStream([&](auto& stream) {
      bhttp::async_read(stream, buffer_, *parser_,
                        [self = shared_from_this()](error_code ec, size_t) {
                          if (ec == bhttp::error::body_limit) return self->RefuseTooLarge();
                          if (ec) return self->Close();
                          self->Dispatch();
                        });
    });
  }

  // 413 without reading the body; the connection closes after it.
  void RefuseTooLarge() {
    keep_alive_ = false;
    linger_ = true;
    state_ = State::kHandling;
    WriteResponse(ErrorResponse(413, "request body too large"));
  }

  void Dispatch() {
    state_ = State::kHandling;
    Tcp().expires_never();
    bhttp::request<bhttp::string_body> message = parser_->release();
    parser_.reset();
    Request request;
    request.method = Str(message.method_string());
    request.peer = peer_;
    std::string_view target(message.target().data(), message.target().size());
    size_t question = target.find('?');
    std::string_view raw_path = target.substr(0, question);
    if (raw_path.empty() || raw_path.front() != '/') {
      return WriteResponse(ErrorResponse(400, "bad request target"));
    }
    std::vector<std::string> segments;
    for (std::string_view rest = raw_path.substr(1);;) {
      size_t slash = rest.find('/');
      std::optional<std::string> segment = PercentDecode(rest.substr(0, slash), false);
      if (!segment) return WriteResponse(ErrorResponse(400, "bad percent-encoding in path"));
      segments.push_back(*std::move(segment));
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    std::optional<std::string> path = PercentDecode(raw_path, false);
    if (!path) return WriteResponse(ErrorResponse(400, "bad percent-encoding in path"));
    request.path = *std::move(path);
    if (question != std::string_view::npos) {
      std::string_view query = target.substr(question + 1);
      while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        size_t eq = pair.find('=');
        std::optional<std::string> name = PercentDecode(pair.substr(0, eq), true);
        std::optional<std::string> value = PercentDecode(
            eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
        if (!name || !value) return WriteResponse(ErrorResponse(400, "bad percent-encoding"));
        if (!pair.empty()) request.query.emplace_back(*std::move(name), *std::move(value));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
      }
    }
    for (const auto& field : message) {
      request.headers.emplace_back(Str(field.name_string()), Str(field.value()));
    }
    const Handler* handler = nullptr;
    std::string allow;
    switch (core_->router.Find(request.method, segments, &handler, &request.route,
                               &request.path_params, &allow)) {
      case Router::Match::kNotFound:
        return WriteResponse(ErrorResponse(404, "not found"));
      case Router::Match::kMethodNotAllowed: {
        Response r = ErrorResponse(405, "method not allowed");
        r.headers.emplace_back("Allow", allow);
        return WriteResponse(std::move(r));
      }
      case Router::Match::kFound:
        break;
    }
    request.body = std::move(message.body());
    std::string route = request.route;
    try {
      (*handler)(std::move(request), MakeResponder(route));
    } catch (const std::exception& e) {  // the Responder was dropped: 500 is on its way
      LogError("http_handler_threw", {{"route", route}, {"error", std::string_view(e.what())}});
    }
  }

  // After a response that left the request body unread: closing at once with unread bytes
  // would send a reset, which can destroy the response before the client reads it. So stop
  // sending, then read and drop what the client still sends (at most kLingerBytes, for at
  // most read_timeout or 2 s) until it closes.
  void LingeringClose() {
    if (closed_) return;
    state_ = State::kReading;  // a shutdown closes it at once
    error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
    Tcp().expires_after(Chrono(std::min(core_->options.read_timeout, absl::Seconds(2))));
    Drain(0);
  }
  void Drain(size_t dropped) {
    static constexpr size_t kLingerBytes = 1 << 20;
    Tcp().async_read_some(net::buffer(discard_),
                          [self = shared_from_this(), dropped](error_code ec, size_t n) {
                            if (ec || dropped + n > kLingerBytes) return self->Close();
                            self->Drain(dropped + n);
                          });
  }

  // Reads while a stream is open only to see the peer go away (whatever it sends is dropped).
  void WatchPeer() {
    WithStream([&](auto& stream) {
      stream.async_read_some(net::buffer(discard_),
                             [self = shared_from_this()](error_code ec, size_t) {
                               if (ec) return self->Close(absl::UnavailableError("peer went away"));
                               self->WatchPeer();
                             });
    });
  }

  // Declared first: destroyed last, so the io_context outlives the sockets.
  const std::shared_ptr<Core> core_;
  const std::shared_ptr<net::ssl::context> tls_context_;
  const net::any_io_executor ex_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  uint64_t id_ = 0;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  State state_ = State::kReading;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool first_request_ = true;
  bool linger_ = false;
  bool closed_ = false;
  std::shared_ptr<StreamState> stream_;
  std::vector<std::string> batch_;
  bool batch_in_flight_ = false;
  char discard_[512];

  Responder MakeResponder(const std::string& route);
};

// One request handed to a handler: answered once, or 500 when dropped.
class Exchange {
 public:
  Exchange(std::shared_ptr<Session> session, std::string route)
      : session_(std::move(session)), route_(std::move(route)) {}

  void Answer(Response response) {
    std::shared_ptr<Session> session = std::move(session_);
    if (session == nullptr) return;
    const std::shared_ptr<Core> core = session->core();
    core->Post(session->executor(), [session, response = std::move(response)]() mutable {
      session->WriteResponse(std::move(response));
    });
  }

  std::shared_ptr<ResponseStream> Stream(StreamOptions options) {
    std::shared_ptr<Session> session = std::move(session_);
    auto state = std::make_shared<StreamState>(
        session ? session->core() : nullptr, session ? session->executor() : net::any_io_executor(),
        session, options.max_queued_bytes, std::move(options.on_close));
    if (session == nullptr) {
      state->ReportClose(absl::FailedPreconditionError("already answered"));
      return std::make_shared<ResponseStream>(std::move(state));
    }
    std::string head = absl::StrCat(
        "HTTP/1.1 ", options.status, " ",
        Str(bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(options.status)))),
        "\r\nContent-Type: ", options.content_type, "\r\n");
    bool cache_control = false;
    for (const auto& [name, value] : options.headers) {
      if (HasCrLf(name) || HasCrLf(value) || name.empty()) continue;
      bhttp::field f = bhttp::string_to_field(name);
      if (f == bhttp::field::content_length || f == bhttp::field::connection ||
          f == bhttp::field::transfer_encoding) {
        continue;
      }
      if (f == bhttp::field::cache_control) cache_control = true;
      absl::StrAppend(&head, name, ": ", value, "\r\n");
    }
    if (!cache_control) absl::StrAppend(&head, "Cache-Control: no-store\r\n");
    absl::StrAppend(&head, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    state->QueueHead(std::move(head));
    const std::shared_ptr<Core> core = session->core();
    if (!core->Post(session->executor(),
                    [session, state]() mutable { session->StartStream(std::move(state)); })) {
      state->ReportClose(absl::CancelledError("server stopped"));
    }
    return std::make_shared<ResponseStream>(std::move(state));
  }

  bool answered() const { return session_ == nullptr; }
  const std::string& route() const { return route_; }

 private:
  std::shared_ptr<Session> session_;
  const std::string route_;
};

Responder Session::MakeResponder(const std::string& route) {
  return Responder(std::make_shared<Exchange>(shared_from_this(), route));
}

bool StreamState::Write(std::string chunk) {
  if (chunk.empty()) return !closed();  // an empty chunk would end the chunked body
  // Chunked framing: size in hex, CRLF, data, CRLF.
  std::string framed = absl::StrCat(absl::Hex(chunk.size()), "\r\n", chunk, "\r\n");
  bool start = false;
  bool cut = false;
  {
    absl::MutexLock lock(&mu_);
    if (closed_ || finishing_) return false;
    cut = queued_ + framed.size() > max_;
    if (cut) closed_ = true;
  }
  if (cut) {
    PostCut();
    return false;
  }
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return false;
    queued_ += framed.size();
    queue_.push_back(std::move(framed));
    start = !writing_;
    writing_ = true;
  }
  if (start) PostPump();
  return true;
}

void StreamState::Finish() {
  bool start = false;
  {
    absl::MutexLock lock(&mu_);
    if (closed_ || finishing_) return;
    finishing_ = true;
    static constexpr std::string_view kLastChunk = "0\r\n\r\n";
    queued_ += kLastChunk.size();
    queue_.emplace_back(kLastChunk);
    start = !writing_;
    writing_ = true;
  }
  if (start) PostPump();
}

void StreamState::PostPump() {
  std::shared_ptr<Session> session = session_.lock();
  if (session == nullptr) return;
  core_->Post(ex_, [session] { session->Pump(); });
}

void StreamState::PostCut() {
  std::shared_ptr<Session> session = session_.lock();
  if (session == nullptr) {
    ReportClose(absl::ResourceExhaustedError("stream queue bound passed"));
    return;
  }
  core_->Post(ex_, [session] {
    session->Close(absl::ResourceExhaustedError("stream queue bound passed"));
  });
}

}  // namespace internal

using internal::Core;
using internal::Session;

// ResponseStream and Responder: thin handles on the internal state.

ResponseStream::ResponseStream(std::shared_ptr<internal::StreamState> state)
    : state_(std::move(state)) {}
ResponseStream::~ResponseStream() = default;
bool ResponseStream::Write(std::string chunk) { return state_->Write(std::move(chunk)); }
void ResponseStream::Finish() { state_->Finish(); }
bool ResponseStream::closed() const { return state_->closed(); }
size_t ResponseStream::queued_bytes() const { return state_->queued_bytes(); }

Responder::Responder(std::shared_ptr<internal::Exchange> exchange)
    : exchange_(std::move(exchange)) {}
Responder::Responder(Responder&&) noexcept = default;
Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    Responder dropped(std::move(*this));  // answers 500 if it held an unanswered request
    exchange_ = std::move(other.exchange_);
  }
  return *this;
}
Responder::~Responder() {
  if (exchange_ == nullptr || exchange_->answered()) return;
  LogError("http_handler_dropped_response", {{"route", exchange_->route()}});
  exchange_->Answer(internal::ErrorResponse(500, "internal error"));
}

void Responder::operator()(Response response) && {
  std::shared_ptr<internal::Exchange> exchange = std::move(exchange_);
  if (exchange != nullptr) exchange->Answer(std::move(response));
}

std::shared_ptr<ResponseStream> Responder::Stream(StreamOptions options) && {
  std::shared_ptr<internal::Exchange> exchange = std::move(exchange_);
  if (exchange == nullptr) exchange = std::make_shared<internal::Exchange>(nullptr, "");
  return exchange->Stream(std::move(options));
}

// The listener, the threads, TLS reload and shutdown.
class Server::Impl {
 public:
  explicit Impl(std::shared_ptr<Core> core)
      : core_(std::move(core)),
        acceptor_(net::make_strand(core_->ioc)),
        reload_timer_(acceptor_.get_executor()),
        work_(net::make_work_guard(core_->ioc)) {}

  ~Impl() { Shutdown(absl::Now()); }

  absl::Status Listen() {
    const ServerOptions& o = core_->options;
    error_code ec;
    tcp::resolver resolver(core_->ioc);
    auto endpoints = resolver.resolve(o.host, std::to_string(o.port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || endpoints.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot resolve HTTP host '", o.host, "': ", ec.message()));
    }
    tcp::endpoint endpoint = endpoints.begin()->endpoint();
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", o.host, ":", o.port, ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint(ec).port();
    return absl::OkStatus();
  }

  void Run() {
    Accept();
    if (core_->options.tls.enabled()) ScheduleTlsReload();
    for (int i = 0; i < core_->options.threads; ++i) {
      threads_.emplace_back([core = core_] {
        // Handlers do not throw; should one (bad_alloc), log it and keep serving.
        for (int attempts = 0; attempts < 1000; ++attempts) {
          try {
            core->ioc.run();
            return;
          } catch (const std::exception& e) {
            LogError("http_thread_exception", {{"error", std::string_view(e.what())}});
          }
        }
      });
    }
    LogInfo("http_listening", {{"port", static_cast<int64_t>(port_)},
                               {"tls", core_->options.tls.enabled()},
                               {"threads", static_cast<int64_t>(core_->options.threads)}});
  }

  // Reads the TLS files; builds a new context when they changed. Start-up fails on error;
  // later reloads log it and keep the old context.
  absl::Status ReloadTls() {
    const TlsOptions& tls = core_->options.tls;
    absl::StatusOr<std::string> cert = ReadFileToString(tls.cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFileToString(tls.key_file);
    if (!key.ok()) return key.status();
    std::string ca;
    if (!tls.client_ca_file.empty()) {
      absl::StatusOr<std::string> read = ReadFileToString(tls.client_ca_file);
      if (!read.ok()) return read.status();
      ca = *std::move(read);
    }
    std::string files = absl::StrCat(*cert, std::string(1, '\0'), *key, std::string(1, '\0'), ca);
    {
      absl::MutexLock lock(&core_->mu);
      if (files == core_->tls_files) return absl::OkStatus();
    }
    auto context = internal::BuildTlsContext(*cert, *key, ca);
    if (!context.ok()) return context.status();
    absl::MutexLock lock(&core_->mu);
    bool first = core_->tls == nullptr;
    core_->tls = *std::move(context);
    core_->tls_files = std::move(files);
    if (!first) LogInfo("http_tls_reloaded");
    return absl::OkStatus();
  }

  int port() const { return port_; }
  size_t connections() const { return core_->SessionCount(); }

  void Shutdown(absl::Time deadline) {
    if (done_) return;
    done_ = true;
    core_->shutting_down.store(true);
    net::post(acceptor_.get_executor(), [this] {
      error_code ec;
      acceptor_.close(ec);
      reload_timer_.cancel();
    });
    ForEachSession([](const std::shared_ptr<Session>& s) { s->OnShutdown(); });
    {
      // A CondVar rather than Await(Condition): ThreadSanitizer builds annotate Debian's
      // uninstrumented Abseil locks, which covers CondVar but not conditions evaluated inside.
      absl::MutexLock lock(&core_->mu);
      while (!core_->sessions.empty() && absl::Now() < deadline) {
        core_->drained.WaitWithDeadline(&core_->mu, deadline);
      }
    }
    ForEachSession([](const std::shared_ptr<Session>& s) {
      s->Close(absl::CancelledError("server shutting down"));
    });
    work_.reset();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    {
      absl::MutexLock lock(&core_->mu);
      core_->stopped = true;
    }
    // What Responders posted while the threads were leaving: run it (the sockets are closed),
    // so that no handler holding a session stays queued in the io_context.
    core_->ioc.restart();
    core_->ioc.poll();
    LogInfo("http_stopped");
  }

 private:
  void Accept() {
    acceptor_.async_accept(net::make_strand(core_->ioc), [this](error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {
        // Out of descriptors and the like: wait a little rather than spin.
        LogWarning("http_accept_failed", {{"error", ec.message()}});
        accept_backoff_.emplace(acceptor_.get_executor());
        accept_backoff_->expires_after(std::chrono::milliseconds(50));
        accept_backoff_->async_wait([this](error_code wait_ec) {
          if (!wait_ec) Accept();
        });
        return;
      }
      std::shared_ptr<net::ssl::context> tls;
      uint64_t id = 0;
      {
        absl::MutexLock lock(&core_->mu);
        if (core_->sessions.size() >= static_cast<size_t>(core_->options.max_connections)) {
          error_code close_ec;
          socket.close(close_ec);
          Accept();
          return;
        }
        tls = core_->tls;
        id = ++core_->next_id;
      }
      auto session = std::make_shared<Session>(core_, std::move(socket), std::move(tls));
      session->set_id(id);
      {
        absl::MutexLock lock(&core_->mu);
        core_->sessions.emplace(id, session);
      }
      net::post(session->executor(), [session] { session->Start(); });
      Accept();
    });
  }

  void ScheduleTlsReload() {
    reload_timer_.expires_after(internal::Chrono(core_->options.tls.reload_interval));
    reload_timer_.async_wait([this](error_code ec) {
      if (ec || core_->shutting_down.load()) return;
      if (absl::Status s = ReloadTls(); !s.ok()) {
        LogWarning("http_tls_reload_failed", {{"error", Std(s.message())}});
      }
      ScheduleTlsReload();
    });
  }

  // Runs `fn` on each open session's strand.
  template <class Fn>
  void ForEachSession(Fn fn) {
    std::vector<std::shared_ptr<Session>> sessions;
    {
      absl::MutexLock lock(&core_->mu);
      for (auto& [id, weak] : core_->sessions) {
        if (auto s = weak.lock()) sessions.push_back(std::move(s));
      }
    }
    for (auto& s : sessions) {
      core_->Post(s->executor(), [s, fn] { fn(s); });
    }
  }

  const std::shared_ptr<Core> core_;
  tcp::acceptor acceptor_;
  net::steady_timer reload_timer_;
  std::optional<net::steady_timer> accept_backoff_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  bool done_ = false;
};

namespace {

absl::Status Validate(const ServerOptions& o) {
  if (o.port < 0 || o.port > 65535) return absl::InvalidArgumentError("port out of range");
  if (o.max_body_bytes == 0) return absl::InvalidArgumentError("max_body_bytes must be > 0");
  if (o.idle_timeout <= absl::ZeroDuration() || o.read_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("idle_timeout and read_timeout must be > 0");
  }
  if (o.max_connections < 1) return absl::InvalidArgumentError("max_connections must be >= 1");
  if (o.threads < 1 || o.threads > 64) return absl::InvalidArgumentError("threads: 1 to 64");
  if (o.tls.cert_file.empty() != o.tls.key_file.empty()) {
    return absl::InvalidArgumentError("TLS certificate and key go together");
  }
  if (!o.tls.enabled() && !o.tls.client_ca_file.empty()) {
    return absl::InvalidArgumentError("a TLS client CA needs a certificate and key");
  }
  if (o.tls.enabled() && o.tls.reload_interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError("TLS reload interval must be >= 1s");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options, Router router) {
  if (absl::Status s = Validate(options); !s.ok()) return s;
  auto core = std::make_shared<Core>();
  core->options = std::move(options);
  core->router = std::move(router);
  auto impl = std::make_unique<Impl>(core);
  if (core->options.tls.enabled()) {
    if (absl::Status s = impl->ReloadTls(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("HTTP TLS: ", s.message()));
    }
  }
  if (absl::Status s = impl->Listen(); !s.ok()) return s;
  impl->Run();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;
int Server::port() const { return impl_->port(); }
int Server::connections() const { return static_cast<int>(impl_->connections()); }
void Server::Shutdown(absl::Time deadline) { impl_->Shutdown(deadline); }

}  // namespace alliance::http
