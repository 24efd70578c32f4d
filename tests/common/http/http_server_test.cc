// The HTTP server (common/http/http_server.h) over loopback sockets: routing with captures,
// 404/405, responders completed from other threads or dropped, the body limit, keep-alive, the
// stall timeout, the connection bound, shutdown with a request in flight, TLS/mTLS with a
// rotated certificate, and long-lived streams (events from another thread; a client that never
// reads is cut off; a client that leaves is noticed).
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT  // httplib::SSLClient; Debian's pkg-config sets it
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#include "common/http/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/strings.h"
#include "gtest/gtest.h"
#include "tests/support/test_certificates.h"

namespace alliance::http {
namespace {

// A raw loopback client, for what httplib hides (keep-alive on one socket, stalls, clients
// that never read). Every read has a 20 s receive timeout so that a broken server fails the
// test instead of hanging it.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{20, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }
  void SetReceiveBuffer(int bytes) { setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes); }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // One response with a Content-Length body: "" when the connection ended first.
  std::string ReadResponse() {
    while (true) {
      size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t length = 0;
        std::string head = buffer_.substr(0, end);
        size_t at = absl::AsciiStrToLower(head).find("content-length: ");
        if (at != std::string::npos) {
          size_t eol = head.find("\r\n", at);
          EXPECT_TRUE(absl::SimpleAtoi(head.substr(at + 16, eol - at - 16), &length));
        }
        if (buffer_.size() >= end + 4 + length) {
          std::string response = buffer_.substr(0, end + 4 + length);
          buffer_.erase(0, end + 4 + length);
          return response;
        }
      }
      if (!ReadMore()) return "";
    }
  }
  // Reads until `text` has arrived; false when the connection ended first.
  bool ReadUntil(std::string_view text) {
    while (!absl::StrContains(buffer_, Absl(text))) {
      if (!ReadMore()) return false;
    }
    return true;
  }
  // True when the server closed the connection (EOF or reset) before sending anything more.
  bool ClosedByServer() {
    char c;
    ssize_t n = recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool ReadMore() {
    char chunk[4096];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// Threads that answer requests later, joined at the end of the test.
class Workers {
 public:
  ~Workers() { JoinAll(); }
  template <class Fn>
  void Run(Fn fn) {
    absl::MutexLock lock(&mu_);
    threads_.emplace_back(std::move(fn));
  }
  void JoinAll() {
    std::vector<std::thread> threads;
    {
      absl::MutexLock lock(&mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::thread> threads_;
};

ServerOptions TestOptions() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.max_body_bytes = 1024;
  options.idle_timeout = absl::Seconds(30);
  options.read_timeout = absl::Seconds(30);
  options.max_connections = 64;
  return options;
}

Response Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

// Waits (bounded) until `done` holds; false when it never did.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 2000; ++i) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

class HttpServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) server_->Shutdown(absl::Now() + absl::Seconds(5));
    workers_.JoinAll();
  }

  void Start(Router router, ServerOptions options = TestOptions()) {
    auto server = Server::Start(std::move(options), std::move(router));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
  }
  httplib::Client Client() {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_read_timeout(20, 0);
    return client;
  }

  Workers workers_;
  std::unique_ptr<Server> server_;
};

Router FhirRouter() {
  Router router;
  router.Handle("GET", "/fhir/Questionnaire/{id}", [](Request request, Responder respond) {
    std::move(respond)(Text(
        200, absl::StrCat("questionnaire ", request.path_params.at(0),
                          " v=", Absl(request.QueryParam("version")), " route=", request.route)));
  });
  router.Handle("GET", "/fhir/{type}/{id}/_history/{vid}", [](Request request, Responder respond) {
    std::move(respond)(Text(200, absl::StrJoin(request.path_params, ",")));
  });
  router.Handle("POST", "/fhir/QuestionnaireResponse", [](Request request, Responder respond) {
    std::move(respond)(Text(201, absl::StrCat("got ", request.body.size(), " bytes, ",
                                              Absl(request.Header("x-TEST-header")))));
  });
  router.Handle("PUT", "/fhir/QuestionnaireResponse",
                [](Request, Responder respond) { std::move(respond)(Text(200, "put")); });
  return router;
}

TEST_F(HttpServerTest, RoutesWithCaptures) {
  Start(FhirRouter());
  auto client = Client();
  auto got = client.Get("/fhir/Questionnaire/wai-sr?version=2&x=1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "questionnaire wai-sr v=2 route=/fhir/Questionnaire/{id}");
  EXPECT_EQ(got->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(got->get_header_value("Content-Length"), std::to_string(got->body.size()));
  EXPECT_EQ(got->get_header_value("Content-Type"), "text/plain");

  // Captures and the query are percent-decoded ('+' is a space in the query only).
  RawClient raw(server_->port());
  ASSERT_TRUE(
      raw.Send("GET /fhir/Questionnaire/a%20b+c?version=x%2By+z&version=2 HTTP/1.1\r\n"
               "Host: x\r\n\r\n"));
  EXPECT_TRUE(absl::EndsWith(raw.ReadResponse(),
                             "questionnaire a b+c v=x+y z route=/fhir/Questionnaire/{id}"));
  ASSERT_TRUE(raw.Send("GET /fhir/Questionnaire/a%2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(absl::StartsWith(raw.ReadResponse(), "HTTP/1.1 400"));

  got = client.Get("/fhir/Patient/p1/_history/3");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->body, "Patient,p1,3");

  got = client.Post("/fhir/QuestionnaireResponse", {{"X-Test-Header", "hello"}},
                    std::string(1000, 'x'), "application/fhir+json");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 201);
  EXPECT_EQ(got->body, "got 1000 bytes, hello");

  // An empty capture does not match.
  got = client.Get("/fhir/Questionnaire/");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 404);
}

TEST_F(HttpServerTest, NotFoundAndMethodNotAllowed) {
  Start(FhirRouter());
  auto client = Client();
  auto got = client.Get("/nope");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 404);
  EXPECT_EQ(got->get_header_value("Cache-Control"), "no-store");

  got = client.Delete("/fhir/QuestionnaireResponse");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 405);
  EXPECT_EQ(got->get_header_value("Allow"), "POST, PUT");

  got = client.Post("/fhir/Questionnaire/q1", "{}", "application/json");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 405);
  EXPECT_EQ(got->get_header_value("Allow"), "GET");
}

TEST_F(HttpServerTest, RespondsFromAnotherThread) {
  Router router;
  router.Handle("GET", "/slow/{n}", [this](Request request, Responder respond) {
    workers_.Run([request = std::move(request), respond = std::move(respond)]() mutable {
      Response r = Text(200, "answered " + request.path_params[0]);
      r.headers.emplace_back("Cache-Control", "max-age=0, private");
      r.headers.emplace_back("X-Bad", "a\r\nInjected: yes");
      std::move(respond)(std::move(r));
    });
  });
  Start(std::move(router), [] {
    ServerOptions o = TestOptions();
    o.threads = 2;
    return o;
  }());
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&, i] {
      auto client = Client();
      for (int j = 0; j < 5; ++j) {
        auto got = client.Get(absl::StrCat("/slow/", i, "-", j));
        if (got && got->status == 200 && got->body == absl::StrCat("answered ", i, "-", j) &&
            got->get_header_value("Cache-Control") == "max-age=0, private" &&
            !got->has_header("Injected") && !got->has_header("X-Bad")) {
          ++ok;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 20);
}

TEST_F(HttpServerTest, DroppedResponderAnswers500) {
  Router router;
  router.Handle("GET", "/drop", [](Request, Responder) {});
  router.Handle("GET", "/drop-later", [this](Request, Responder respond) {
    workers_.Run([respond = std::move(respond)]() mutable { Responder gone = std::move(respond); });
  });
  Start(std::move(router));
  auto client = Client();
  for (const char* path : {"/drop", "/drop-later"}) {
    auto got = client.Get(path);
    ASSERT_TRUE(got) << path;
    EXPECT_EQ(got->status, 500) << path;
    EXPECT_EQ(got->body, "{\"error\":\"internal error\"}");
  }
}

TEST_F(HttpServerTest, BodyLimitAnswers413WithoutReadingTheBody) {
  std::atomic<int> calls{0};
  Router router;
  router.Handle("POST", "/in", [&calls](Request, Responder respond) {
    ++calls;
    std::move(respond)(Text(200, "ok"));
  });
  Start(std::move(router));
  auto client = Client();
  auto got = client.Post("/in", std::string(1024, 'x'), "text/plain");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);

  got = client.Post("/in", std::string(1025, 'x'), "text/plain");
  ASSERT_TRUE(got) << httplib::to_string(got.error());
  EXPECT_EQ(got->status, 413);

  // A client announcing 100 MB and sending none of it is answered at once, and the
  // connection closes.
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send("POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"));
  std::string response = raw.ReadResponse();
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 413")) << response;
  EXPECT_TRUE(raw.ClosedByServer());

  // Chunked bodies are bounded too.
  RawClient chunked(server_->port());
  ASSERT_TRUE(chunked.Send(
      absl::StrCat("POST /in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", "800\r\n",
                   std::string(0x800, 'y'), "\r\n0\r\n\r\n")));
  response = chunked.ReadResponse();
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 413")) << response;
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  Start(FhirRouter());
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send("GET /fhir/Questionnaire/a HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string first = raw.ReadResponse();
  EXPECT_TRUE(absl::StartsWith(first, "HTTP/1.1 200")) << first;
  EXPECT_TRUE(absl::StrContains(first, "questionnaire a"));
  ASSERT_TRUE(raw.Send("GET /fhir/Questionnaire/b HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string second = raw.ReadResponse();
  EXPECT_TRUE(absl::StartsWith(second, "HTTP/1.1 200")) << second;
  EXPECT_TRUE(absl::StrContains(second, "questionnaire b"));
  EXPECT_EQ(server_->connections(), 1);
  // "Connection: close" is honoured.
  ASSERT_TRUE(
      raw.Send("GET /fhir/Questionnaire/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(absl::StrContains(raw.ReadResponse(), "questionnaire c"));
  EXPECT_TRUE(raw.ClosedByServer());
}

TEST_F(HttpServerTest, StalledClientsAreDisconnected) {
  ServerOptions options = TestOptions();
  options.read_timeout = absl::Milliseconds(200);
  options.idle_timeout = absl::Milliseconds(200);
  Start(FhirRouter(), options);
  RawClient silent(server_->port());
  RawClient partial(server_->port());
  RawClient slow_body(server_->port());
  ASSERT_TRUE(silent.connected() && partial.connected() && slow_body.connected());
  ASSERT_TRUE(partial.Send("GET /fhir/Questionnaire/a HTTP/1.1\r\nHo"));
  ASSERT_TRUE(
      slow_body.Send("POST /fhir/QuestionnaireResponse HTTP/1.1\r\nHost: x\r\n"
                     "Content-Length: 10\r\n\r\nabc"));
  EXPECT_TRUE(silent.ClosedByServer());
  EXPECT_TRUE(partial.ClosedByServer());
  EXPECT_TRUE(slow_body.ClosedByServer());
  EXPECT_TRUE(Eventually([&] { return server_->connections() == 0; }));
}

TEST_F(HttpServerTest, ConnectionsBeyondTheBoundAreClosed) {
  ServerOptions options = TestOptions();
  options.max_connections = 2;
  Start(FhirRouter(), options);
  RawClient a(server_->port());
  RawClient b(server_->port());
  ASSERT_TRUE(a.connected() && b.connected());
  ASSERT_TRUE(Eventually([&] { return server_->connections() == 2; }));
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());  // the kernel accepts; the server closes it at once
  EXPECT_TRUE(c.ClosedByServer());
  // The two within the bound still work.
  ASSERT_TRUE(a.Send("GET /fhir/Questionnaire/a HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(absl::StrContains(a.ReadResponse(), "questionnaire a"));
}

TEST_F(HttpServerTest, ShutdownLetsARequestInFlightFinish) {
  std::promise<Responder> held;
  Router router;
  router.Handle("GET", "/held",
                [&held](Request, Responder respond) { held.set_value(std::move(respond)); });
  Start(std::move(router));

  RawClient idle(server_->port());
  ASSERT_TRUE(idle.connected());
  auto answer = std::async(std::launch::async, [port = server_->port()] {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(20, 0);
    auto got = client.Get("/held");
    return got ? got->status : -1;
  });
  Responder responder = held.get_future().get();
  std::thread shutdown([this] { server_->Shutdown(absl::Now() + absl::Seconds(20)); });
  // Idle connections close at once; the request in flight is still answered.
  EXPECT_TRUE(idle.ClosedByServer());
  std::move(responder)(Text(200, "late but fine"));
  EXPECT_EQ(answer.get(), 200);
  shutdown.join();
  EXPECT_EQ(server_->connections(), 0);
}

TEST_F(HttpServerTest, ShutdownDeadlineClosesUnansweredRequests) {
  std::promise<Responder> held;
  Router router;
  router.Handle("GET", "/held",
                [&held](Request, Responder respond) { held.set_value(std::move(respond)); });
  Start(std::move(router));
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n"));
  Responder responder = held.get_future().get();
  server_->Shutdown(absl::Now() + absl::Milliseconds(100));
  EXPECT_TRUE(raw.ClosedByServer());
  server_.reset();
  // The responder outlives the server: answering now does nothing (and must not crash).
  std::move(responder)(Text(200, "too late"));
}

// ---- TLS

class HttpsTest : public HttpServerTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("alliance-https-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    for (const char* ca : {"ca1", "ca2", "clientca"}) {
      ASSERT_TRUE(alliance::testing::MakeTestCa(dir_.string(), ca).ok());
    }
    ASSERT_TRUE(alliance::testing::MakeTestLeaf(dir_.string(), "server1", "ca1", "localhost").ok());
    ASSERT_TRUE(alliance::testing::MakeTestLeaf(dir_.string(), "server2", "ca2", "localhost").ok());
    ASSERT_TRUE(alliance::testing::MakeTestLeaf(dir_.string(), "client", "clientca", "c").ok());
    Install("server1");
  }
  void TearDown() override {
    HttpServerTest::TearDown();
    std::filesystem::remove_all(dir_);
  }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }
  void Install(const std::string& leaf) {
    for (const char* ext : {".pem", ".key"}) {
      std::filesystem::copy_file(Path(leaf + ext), Path("tmp"),
                                 std::filesystem::copy_options::overwrite_existing);
      std::filesystem::rename(Path("tmp"), Path(std::string("live") + ext));
    }
  }
  ServerOptions TlsOptions(bool mtls) {
    ServerOptions options = TestOptions();
    options.tls.cert_file = Path("live.pem");
    options.tls.key_file = Path("live.key");
    if (mtls) options.tls.client_ca_file = Path("clientca.pem");
    options.tls.reload_interval = absl::Seconds(1);
    return options;
  }
  // Status of GET /fhir/Questionnaire/q over TLS trusting `ca`; -1 when the handshake fails.
  int Get(const std::string& ca, bool client_cert) {
    std::unique_ptr<httplib::SSLClient> client =
        client_cert ? std::make_unique<httplib::SSLClient>("localhost", server_->port(),
                                                           Path("client.pem"), Path("client.key"))
                    : std::make_unique<httplib::SSLClient>("localhost", server_->port());
    client->set_ca_cert_path(Path(ca + ".pem").c_str());
    client->enable_server_certificate_verification(true);
    client->set_read_timeout(20, 0);
    auto got = client->Get("/fhir/Questionnaire/q");
    return got ? got->status : -1;
  }

  std::filesystem::path dir_;
};

TEST_F(HttpsTest, ServesTlsOnlyAndPicksUpARotatedCertificate) {
  Start(FhirRouter(), TlsOptions(false));
  EXPECT_EQ(Get("ca1", false), 200);
  EXPECT_EQ(Get("ca2", false), -1);  // not the CA of the certificate served
  // Plain HTTP is not spoken on the TLS port.
  auto plain = Client().Get("/fhir/Questionnaire/q");
  EXPECT_TRUE(!plain || plain->status != 200);

  // A bad pair (key of another certificate) is refused and the old one kept.
  std::filesystem::copy_file(Path("server2.key"), Path("tmp"),
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(Path("tmp"), Path("live.key"));
  absl::SleepFor(absl::Milliseconds(1500));  // a reload happens; the result is what we check
  EXPECT_EQ(Get("ca1", false), 200);

  Install("server2");
  EXPECT_TRUE(Eventually([&] { return Get("ca2", false) == 200; }));
  EXPECT_EQ(Get("ca1", false), -1);
}

TEST_F(HttpsTest, MutualTlsNeedsAClientCertificate) {
  Start(FhirRouter(), TlsOptions(true));
  EXPECT_EQ(Get("ca1", true), 200);
  EXPECT_EQ(Get("ca1", false), -1);
}

TEST_F(HttpsTest, BadFilesFailStart) {
  ServerOptions options = TlsOptions(false);
  options.tls.key_file = Path("server2.key");
  auto server = Server::Start(options, FhirRouter());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << server.status();
  options.tls.key_file = Path("missing.key");
  EXPECT_FALSE(Server::Start(options, FhirRouter()).ok());
}

// ---- Streams

struct StreamProbe {
  absl::Mutex mu;
  std::shared_ptr<ResponseStream> stream;
  absl::Notification opened;
  absl::Notification closed;
  absl::Status close_reason;
};

Router StreamRouter(StreamProbe* probe, size_t max_queued_bytes) {
  Router router;
  router.Handle("GET", "/events", [probe, max_queued_bytes](Request, Responder respond) {
    StreamOptions options;
    options.max_queued_bytes = max_queued_bytes;
    options.headers.emplace_back("X-Accel-Buffering", "no");
    options.on_close = [probe](absl::Status reason) {
      {
        absl::MutexLock lock(&probe->mu);
        probe->close_reason = reason;
      }
      probe->closed.Notify();
    };
    auto stream = std::move(respond).Stream(std::move(options));
    {
      absl::MutexLock lock(&probe->mu);
      probe->stream = stream;
    }
    probe->opened.Notify();
  });
  return router;
}

TEST_F(HttpServerTest, StreamsEventsWrittenFromAnotherThread) {
  StreamProbe probe;
  Start(StreamRouter(&probe, 1 << 20));
  std::thread writer([&probe] {
    probe.opened.WaitForNotification();
    std::shared_ptr<ResponseStream> stream;
    {
      absl::MutexLock lock(&probe.mu);
      stream = probe.stream;
    }
    for (int i = 1; i <= 5; ++i) {
      EXPECT_TRUE(stream->Write(absl::StrCat("event: score\ndata: {\"n\":", i, "}\n\n")));
    }
    stream->Finish();
    EXPECT_FALSE(stream->Write("data: after finish\n\n"));
  });
  auto client = Client();
  std::string received;
  auto got = client.Get("/events", [&](const char* data, size_t length) {
    received.append(data, length);
    return true;
  });
  writer.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_EQ(got->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(got->get_header_value("X-Accel-Buffering"), "no");
  std::string expected;
  for (int i = 1; i <= 5; ++i)
    absl::StrAppend(&expected, "event: score\ndata: {\"n\":", i, "}\n\n");
  EXPECT_EQ(received, expected);
  probe.closed.WaitForNotification();
  absl::MutexLock lock(&probe.mu);
  EXPECT_TRUE(probe.close_reason.ok()) << probe.close_reason;
}

TEST_F(HttpServerTest, NeverReadingStreamIsCutOff) {
  StreamProbe probe;
  constexpr size_t kBound = 256 * 1024;
  Start(StreamRouter(&probe, kBound));
  RawClient raw(server_->port());
  raw.SetReceiveBuffer(4096);
  ASSERT_TRUE(raw.Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  probe.opened.WaitForNotification();
  std::shared_ptr<ResponseStream> stream;
  {
    absl::MutexLock lock(&probe.mu);
    stream = probe.stream;
  }
  const std::string chunk(16 * 1024, 'e');
  bool cut = false;
  // Socket buffers take a few MB at most; 256 MB is far past them plus the bound.
  for (int i = 0; i < 16384 && !cut; ++i) {
    cut = !stream->Write(chunk);
    EXPECT_LE(stream->queued_bytes(), kBound);
  }
  EXPECT_TRUE(cut);
  probe.closed.WaitForNotification();
  {
    absl::MutexLock lock(&probe.mu);
    EXPECT_EQ(probe.close_reason.code(), absl::StatusCode::kResourceExhausted)
        << probe.close_reason;
  }
  EXPECT_TRUE(stream->closed());
  EXPECT_FALSE(stream->Write("more"));
  EXPECT_TRUE(Eventually([&] { return server_->connections() == 0; }));
}

TEST_F(HttpServerTest, StreamNoticesThePeerLeaving) {
  StreamProbe probe;
  Start(StreamRouter(&probe, 1 << 20));
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
    probe.opened.WaitForNotification();
  }  // closed
  probe.closed.WaitForNotification();
  absl::MutexLock lock(&probe.mu);
  EXPECT_EQ(probe.close_reason.code(), absl::StatusCode::kUnavailable) << probe.close_reason;
  EXPECT_FALSE(probe.stream->Write("data: x\n\n"));
}

TEST_F(HttpServerTest, ShutdownClosesStreams) {
  StreamProbe probe;
  Start(StreamRouter(&probe, 1 << 20));
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  probe.opened.WaitForNotification();
  server_->Shutdown(absl::Now() + absl::Seconds(20));
  ASSERT_TRUE(probe.closed.HasBeenNotified());
  absl::MutexLock lock(&probe.mu);
  EXPECT_EQ(probe.close_reason.code(), absl::StatusCode::kCancelled) << probe.close_reason;
}

// The reason for an asynchronous server: many open streams, one thread.
TEST_F(HttpServerTest, OneThreadServesManyOpenStreams) {
  // 1,000 streams, each with a client socket and a server socket here: raise the descriptor
  // limit when allowed, and use fewer streams when it stays low.
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = std::max<rlim_t>(limit.rlim_cur, std::min<rlim_t>(limit.rlim_max, 4096));
  setrlimit(RLIMIT_NOFILE, &limit);
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  const size_t kStreams = std::min<size_t>(1000, (limit.rlim_cur - 100) / 2);
  absl::Mutex mu;
  std::vector<std::shared_ptr<ResponseStream>> streams;
  Router router;
  router.Handle("GET", "/events", [&](Request, Responder respond) {
    auto stream = std::move(respond).Stream(StreamOptions());
    absl::MutexLock lock(&mu);
    streams.push_back(std::move(stream));
  });
  ServerOptions options = TestOptions();
  options.threads = 1;
  options.max_connections = static_cast<int>(kStreams);
  Start(std::move(router), options);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (size_t i = 0; i < kStreams; ++i) {
    clients.push_back(std::make_unique<RawClient>(server_->port()));
    ASSERT_TRUE(clients.back()->Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  ASSERT_TRUE(Eventually([&] {
    absl::MutexLock lock(&mu);
    return streams.size() == kStreams;
  }));
  {
    absl::MutexLock lock(&mu);
    for (size_t i = 0; i < streams.size(); ++i) {
      EXPECT_TRUE(streams[i]->Write("data: hello\n\n"));
    }
  }
  for (auto& client : clients) EXPECT_TRUE(client->ReadUntil("data: hello\n\n"));
  EXPECT_EQ(server_->connections(), static_cast<int>(kStreams));
}

TEST(HttpServerOptionsTest, RejectsBadOptions) {
  ServerOptions options = TestOptions();
  options.threads = 0;
  EXPECT_EQ(Server::Start(options, Router()).status().code(), absl::StatusCode::kInvalidArgument);
  options = TestOptions();
  options.tls.client_ca_file = "/ca.pem";
  EXPECT_EQ(Server::Start(options, Router()).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace alliance::http
