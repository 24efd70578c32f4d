// Transport limits of both gRPC services against the real binaries (common/server_transport.h,
// services/intake/request_limits.h): a request above a method's bound is refused with
// RESOURCE_EXHAUSTED naming the limit (gRPC's own limit for the largest method, the method's
// own for the smaller ones), whether or not it carries a key; the largest valid submission
// still passes; and each connection announces and enforces the cap of concurrent streams,
// checked on the wire with a hand-written HTTP/2 client that ignores the cap. Memory under
// attack is measured by scripts/attack-memory.sh, not here.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "analytics/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/intake/request_limits.h"
#include "services/intake/validation.h"
#include "tests/services/intake/intake_fixture.h"
#include "tests/support/api_keys.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"

namespace alliance::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kKey[] = "key-transport-limits-0001";
constexpr char kTenant[] = "clinic-a";

// Adds an unknown length-delimited field of `bytes` bytes to `message` (any message parses it).
void Pad(google::protobuf::Message* message, size_t bytes) {
  message->GetReflection()->MutableUnknownFields(message)->AddLengthDelimited(
      1000, std::string(bytes, 'x'));
}

std::unique_ptr<grpc::ClientContext> Context(const std::string& key) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  UseKey(*context, key);
  return context;
}

std::shared_ptr<grpc::Channel> Channel(int port) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

// The largest Feedback for `instrument` that passes validation: ids of the longest length,
// the highest session number, every answer non-zero.
alliance::v1::Feedback LargestValidFeedback(const analytics::Instrument& instrument,
                                            const std::string& idempotency_suffix) {
  alliance::v1::Feedback f;
  auto id = [](char c, const std::string& suffix = "") {
    std::string s(intake::kMaxIdLength - suffix.size(), c);
    return s + suffix;
  };
  f.set_tenant_id(id('t'));
  f.set_idempotency_id(id('i', idempotency_suffix));
  f.set_therapist_id(id('h'));
  f.set_client_id(id('c'));
  f.set_session_id(id('s'));
  f.set_session_number(intake::kMaxSessionNumber);
  f.mutable_session_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 3600);
  f.mutable_session_time()->set_nanos(999'999'999);
  f.set_rater(instrument.AllowsRater(analytics::Rater::kObserver) ? alliance::v1::RATER_OBSERVER
              : instrument.AllowsRater(analytics::Rater::kClient) ? alliance::v1::RATER_CLIENT
                                                                  : alliance::v1::RATER_THERAPIST);
  f.set_instrument_id(instrument.id);
  for (int item = 1; item <= instrument.item_count; ++item) {
    auto* answer = f.add_answers();
    answer->set_item(item);
    answer->set_value(instrument.item_max);
  }
  return f;
}

const analytics::Instrument& InstrumentWithMostItems() {
  const auto& registry = analytics::InstrumentRegistry::BuiltIn();
  const analytics::Instrument* best = nullptr;
  for (const std::string& id : registry.Ids()) {
    const analytics::Instrument* i = registry.Find(id);
    if (best == nullptr || i->item_count > best->item_count) best = i;
  }
  return *best;
}

TEST(RequestLimitsTest, TheBoundIsTheLargestValidSubmissionAndABatchOfThem) {
  const auto& registry = analytics::InstrumentRegistry::BuiltIn();
  const intake::RequestLimits limits = intake::ComputeRequestLimits(registry, 500);
  size_t largest = 0;
  for (const std::string& id : registry.Ids()) {
    size_t bytes = LargestValidFeedback(*registry.Find(id), "").ByteSizeLong();
    EXPECT_LE(bytes, limits.feedback_bytes) << id;
    largest = std::max(largest, bytes);
  }
  // Tight: only the session time's varint may be longer in the bound than in a real one.
  EXPECT_LE(limits.feedback_bytes, largest + 8);
  EXPECT_EQ(limits.submit_request_bytes, limits.feedback_bytes + 3);
  EXPECT_EQ(limits.batch_request_bytes, 500 * (limits.feedback_bytes + 3));
  EXPECT_EQ(limits.max_request_bytes(), limits.batch_request_bytes);
}

class IntakeLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    std::string keys = absl::StrCat(redis_.dir(), "/api-keys.json");
    ASSERT_TRUE(WriteApiKeyFile(keys, {{"submit-a", kKey, kTenant, {"submit"}}}).ok());
    ASSERT_TRUE(intake_.Start(redis_.port(), {absl::StrCat("--api_keys_file=", keys)}).ok())
        << intake_.Log();
    stub_ = alliance::v1::FeedbackIntake::NewStub(Channel(intake_.grpc_port()));
    limits_ = intake::ComputeRequestLimits(analytics::InstrumentRegistry::BuiltIn(),
                                           intake::kDefaultMaxBatchItems);
  }

  RedisServer redis_;
  IntakeProcess intake_;
  std::unique_ptr<alliance::v1::FeedbackIntake::Stub> stub_;
  intake::RequestLimits limits_;
};

TEST_F(IntakeLimitsTest, TheLargestValidSubmissionIsAccepted) {
  alliance::v1::SubmitFeedbackRequest request;
  *request.mutable_feedback() = LargestValidFeedback(InstrumentWithMostItems(), "");
  request.mutable_feedback()->set_tenant_id(kTenant);
  alliance::v1::SubmitFeedbackResponse ack;
  grpc::Status status = stub_->SubmitFeedback(Context(kKey).get(), request, &ack);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(IntakeLimitsTest, SubmitFeedbackAboveItsOwnBoundIsResourceExhaustedNamingTheLimit) {
  // Valid content, but the request is a few KiB larger than any valid submission (and far
  // below gRPC's server-wide limit, which is the batch bound).
  alliance::v1::SubmitFeedbackRequest request;
  *request.mutable_feedback() = ValidFeedback("padded");
  Pad(&request, 16 * 1024);
  ASSERT_LT(request.ByteSizeLong(), limits_.max_request_bytes());
  alliance::v1::SubmitFeedbackResponse ack;
  grpc::Status status = stub_->SubmitFeedback(Context(kKey).get(), request, &ack);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("SubmitFeedbackRequest"));
  EXPECT_THAT(status.error_message(), HasSubstr(absl::StrCat(limits_.submit_request_bytes)));
}

TEST_F(IntakeLimitsTest, ABatchItemAboveTheSubmissionBoundFailsAloneWithResourceExhausted) {
  alliance::v1::SubmitFeedbackBatchRequest request;
  *request.add_feedback() = ValidFeedback("batch-ok");
  *request.add_feedback() = ValidFeedback("batch-padded");
  Pad(request.mutable_feedback(1), 16 * 1024);
  alliance::v1::SubmitFeedbackBatchResponse response;
  grpc::Status status = stub_->SubmitFeedbackBatch(Context(kKey).get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 2);
  EXPECT_EQ(response.results(0).code(), 0) << response.results(0).message();
  EXPECT_EQ(response.results(1).code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(response.results(1).message(), HasSubstr("feedback[1]"));
  EXPECT_THAT(response.results(1).message(), HasSubstr(absl::StrCat(limits_.feedback_bytes)));
}

TEST_F(IntakeLimitsTest, ABatchAboveTheServerLimitIsRefusedByGrpc) {
  alliance::v1::SubmitFeedbackBatchRequest request;
  *request.add_feedback() = ValidFeedback("too-large-batch");
  Pad(&request, limits_.max_request_bytes());
  alliance::v1::SubmitFeedbackBatchResponse response;
  grpc::Status status = stub_->SubmitFeedbackBatch(Context(kKey).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr(absl::StrCat(limits_.max_request_bytes())));
}

TEST_F(IntakeLimitsTest, ALargeRequestWithoutAKeyIsRefusedBeforeItIsParsed) {
  // Above the largest valid batch, below the 1 MiB that gRPC used to accept.
  alliance::v1::SubmitFeedbackRequest request;
  Pad(&request, 600 * 1024);
  ASSERT_GT(request.ByteSizeLong(), limits_.max_request_bytes());
  alliance::v1::SubmitFeedbackResponse ack;
  grpc::Status status = stub_->SubmitFeedback(Context("").get(), request, &ack);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
}

// alliance-insights on free ports with authentication on.
class InsightsProcess {
 public:
  absl::Status Start(const RedisServer& redis, const std::vector<std::string>& extra) {
    grpc_port_ = FreePort();
    health_port_ = FreePort();
    std::string keys = absl::StrCat(redis.dir(), "/insights-keys.json");
    if (absl::Status s = WriteApiKeyFile(keys, {{"read-a", kKey, kTenant, {"read"}}}); !s.ok()) {
      return s;
    }
    std::vector<std::string> args = {
        absl::StrCat("--redis_port=", redis.port()), absl::StrCat("--grpc_port=", grpc_port_),
        absl::StrCat("--health_port=", health_port_), absl::StrCat("--api_keys_file=", keys)};
    args.insert(args.end(), extra.begin(), extra.end());
    if (absl::Status s = process_.Start(BinaryPath("alliance-insights"), args,
                                        absl::StrCat(redis.dir(), "/insights.log"));
        !s.ok()) {
      return s;
    }
    if (absl::Status s = WaitForPort(grpc_port_, absl::Seconds(20)); !s.ok()) return s;
    return WaitForPort(health_port_, absl::Seconds(20));
  }
  int grpc_port() const { return grpc_port_; }
  int health_port() const { return health_port_; }
  std::string Log() const { return process_.ReadLog(); }

 private:
  ChildProcess process_;
  int grpc_port_ = 0;
  int health_port_ = 0;
};

TEST(InsightsLimitsTest, RequestsAboveTheBoundAreRefusedWithOrWithoutAKey) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  InsightsProcess insights;
  ASSERT_TRUE(insights.Start(redis, {}).ok()) << insights.Log();
  auto stub = alliance::v1::AllianceInsights::NewStub(Channel(insights.grpc_port()));
  alliance::v1::ListDyadsRequest small;
  small.set_tenant_id(kTenant);
  alliance::v1::ListDyadsResponse out;
  grpc::Status ok = stub->ListDyads(Context(kKey).get(), small, &out);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  // A request of 200 KiB is larger than any valid one (a page token is at most 64 KiB).
  alliance::v1::ListDyadsRequest large = small;
  Pad(&large, 200 * 1024);
  for (const std::string& key : {std::string(kKey), std::string()}) {
    SCOPED_TRACE(key.empty() ? "without a key" : "with a key");
    grpc::Status status = stub->ListDyads(Context(key).get(), large, &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  }
}

// A hand-written HTTP/2 client: what an attacker uses to ignore what the server announces.
class RawHttp2 {
 public:
  ~RawHttp2() {
    if (fd_ >= 0) close(fd_);
  }

  // Connects, sends the preface and an empty SETTINGS, and reads the server's SETTINGS.
  bool Connect(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    timeval timeout{2, 0};  // every read is bounded
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
    std::string hello = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    hello += Frame(kSettings, 0, 0, "");
    if (!Send(hello)) return false;
    for (int i = 0; i < 10; ++i) {  // the server's SETTINGS comes first, maybe after others
      std::optional<Frame_> f = Read();
      if (!f) return false;
      if (f->type == kSettings && (f->flags & 1) == 0) {
        for (size_t p = 0; p + 6 <= f->payload.size(); p += 6) {
          const auto* b = reinterpret_cast<const uint8_t*>(f->payload.data() + p);
          settings_[(b[0] << 8) | b[1]] =
              (uint32_t{b[2]} << 24) | (uint32_t{b[3]} << 16) | (uint32_t{b[4]} << 8) | b[5];
        }
        return Send(Frame(kSettings, 1, 0, ""));  // ACK: the cap is known to be in force
      }
    }
    return false;
  }

  std::optional<uint32_t> Setting(uint16_t id) const {
    auto it = settings_.find(id);
    if (it == settings_.end()) return std::nullopt;
    return it->second;
  }

  // Opens stream `id` for `path`. Without `health_check` it sends no message, so the server
  // holds the stream open; with it, a whole grpc.health.v1 Check request (empty message).
  bool OpenStream(uint32_t id, const std::string& path, bool health_check = false) {
    std::string block;
    for (auto [name, value] :
         std::vector<std::pair<std::string, std::string>>{{":method", "POST"},
                                                          {":scheme", "http"},
                                                          {":path", path},
                                                          {":authority", "localhost"},
                                                          {"content-type", "application/grpc"},
                                                          {"te", "trailers"}}) {
      block += '\0';  // literal header field without indexing, new name, no Huffman coding
      block += static_cast<char>(name.size());
      block += name;
      block += static_cast<char>(value.size());
      block += value;
    }
    if (!Send(Frame(kHeaders, 0x4 /* END_HEADERS */, id, block))) return false;
    if (!health_check) return true;
    // One gRPC message: not compressed, length 0; END_STREAM.
    return Send(Frame(kData, 0x1, id, std::string(5, '\0')));
  }

  // True once the server closed the connection.
  bool closed() const { return closed_; }

  // Reads frames until the server answers stream `id` (response HEADERS, or RST_STREAM when
  // it refuses the stream); that frame's type, or nullopt when nothing came before a read
  // timed out (the server went quiet without serving it).
  std::optional<uint8_t> AnswerOn(uint32_t id) {
    for (int i = 0; i < 1000; ++i) {
      std::optional<Frame_> f = Read();
      if (!f) return std::nullopt;
      if (f->stream == id && (f->type == kHeaders || f->type == kRstStream)) return f->type;
    }
    return std::nullopt;
  }

  static constexpr uint16_t kMaxConcurrentStreams = 0x3;
  static constexpr uint8_t kData = 0x0;
  static constexpr uint8_t kHeaders = 0x1;
  static constexpr uint8_t kRstStream = 0x3;
  static constexpr uint8_t kSettings = 0x4;

 private:
  struct Frame_ {
    uint8_t type;
    uint8_t flags;
    uint32_t stream;
    std::string payload;
  };

  static std::string Frame(uint8_t type, uint8_t flags, uint32_t stream,
                           const std::string& payload) {
    std::string f;
    const size_t n = payload.size();
    f += static_cast<char>((n >> 16) & 0xff);
    f += static_cast<char>((n >> 8) & 0xff);
    f += static_cast<char>(n & 0xff);
    f += static_cast<char>(type);
    f += static_cast<char>(flags);
    for (int shift : {24, 16, 8, 0}) f += static_cast<char>((stream >> shift) & 0xff);
    return f + payload;
  }

  bool Send(const std::string& bytes) {
    // MSG_NOSIGNAL: a connection the server closed is a failed send, not SIGPIPE.
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  bool ReadExactly(size_t n, std::string* out) {
    out->resize(n);
    size_t got = 0;
    while (got < n) {
      ssize_t r = read(fd_, out->data() + got, n - got);
      if (r == 0 || (r < 0 && errno == ECONNRESET)) closed_ = true;
      if (r <= 0) return false;  // closed, or the timeout passed
      got += static_cast<size_t>(r);
    }
    return true;
  }

  std::optional<Frame_> Read() {
    std::string header;
    if (!ReadExactly(9, &header)) return std::nullopt;
    const auto* h = reinterpret_cast<const uint8_t*>(header.data());
    Frame_ f;
    const size_t n = (size_t{h[0]} << 16) | (size_t{h[1]} << 8) | h[2];
    f.type = h[3];
    f.flags = h[4];
    f.stream =
        ((uint32_t{h[5]} & 0x7f) << 24) | (uint32_t{h[6]} << 16) | (uint32_t{h[7]} << 8) | h[8];
    if (!ReadExactly(n, &f.payload)) return std::nullopt;
    return f;
  }

  int fd_ = -1;
  std::map<uint16_t, uint32_t> settings_;
  bool closed_ = false;
};

// The server announces `cap` streams per connection and serves no more: with `cap` - 1 streams
// held open (to `path`, no message sent) a health check on the same connection is served; with
// `cap` held, it is not (gRPC closes such a connection).
void ExpectStreamCapEnforced(int port, uint32_t cap, const std::string& path) {
  const std::string check = "/grpc.health.v1.Health/Check";
  {
    RawHttp2 h2;
    ASSERT_TRUE(h2.Connect(port));
    EXPECT_EQ(h2.Setting(RawHttp2::kMaxConcurrentStreams), cap);
    for (uint32_t i = 0; i + 1 < cap; ++i) ASSERT_TRUE(h2.OpenStream(2 * i + 1, path));
    ASSERT_TRUE(h2.OpenStream(2 * cap - 1, check, true));
    EXPECT_EQ(h2.AnswerOn(2 * cap - 1), std::optional<uint8_t>(RawHttp2::kHeaders))
        << "a stream within the cap was not served";
  }
  {
    RawHttp2 h2;
    ASSERT_TRUE(h2.Connect(port));
    for (uint32_t i = 0; i < cap; ++i) ASSERT_TRUE(h2.OpenStream(2 * i + 1, path));
    h2.OpenStream(2 * cap + 1, check, true);  // may fail: the server may have closed already
    std::optional<uint8_t> answer = h2.AnswerOn(2 * cap + 1);
    EXPECT_NE(answer, std::optional<uint8_t>(RawHttp2::kHeaders))
        << "a stream beyond the cap was served";
    // Refused, or the connection closed; not merely left waiting.
    EXPECT_TRUE(answer == std::optional<uint8_t>(RawHttp2::kRstStream) || h2.closed());
  }
}

TEST(StreamCapTest, EveryPortOfBothServicesCapsConcurrentStreamsPerConnection) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  IntakeProcess intake;
  ASSERT_TRUE(intake.Start(redis.port()).ok()) << intake.Log();
  InsightsProcess insights;
  ASSERT_TRUE(insights.Start(redis, {}).ok()) << insights.Log();
  // The default cap is 100.
  ExpectStreamCapEnforced(intake.grpc_port(), 100, "/alliance.v1.FeedbackIntake/SubmitFeedback");
  ExpectStreamCapEnforced(intake.health_port(), 100, "/grpc.health.v1.Health/Check");
  ExpectStreamCapEnforced(insights.grpc_port(), 100, "/alliance.v1.AllianceInsights/ListDyads");
  ExpectStreamCapEnforced(insights.health_port(), 100, "/grpc.health.v1.Health/Check");
}

TEST(StreamCapTest, TheCapIsAFlag) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  InsightsProcess insights;
  ASSERT_TRUE(insights.Start(redis, {"--max_concurrent_streams=5"}).ok()) << insights.Log();
  ExpectStreamCapEnforced(insights.grpc_port(), 5, "/alliance.v1.AllianceInsights/ListDyads");
}

}  // namespace
}  // namespace alliance::testing
