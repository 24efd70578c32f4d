// The HTTP edge helpers: the API key taken from headers, the Authorizer check on it (same
// answers as the gRPC metadata overload) and absl::Status -> HTTP status.
#include "common/http/http_auth.h"

#include <unistd.h>

#include <filesystem>
#include <map>

#include "gtest/gtest.h"
#include "tests/support/api_keys.h"

namespace alliance::http {
namespace {

Request WithHeaders(std::vector<std::pair<std::string, std::string>> headers) {
  Request request;
  request.headers = std::move(headers);
  return request;
}

TEST(ApiKeyFromHeadersTest, BearerThenXApiKey) {
  EXPECT_EQ(ApiKeyFromHeaders(WithHeaders({{"authorization", "Bearer k1"}})), "k1");
  EXPECT_EQ(ApiKeyFromHeaders(WithHeaders({{"Authorization", "bearer k1"}})), "k1");
  EXPECT_EQ(ApiKeyFromHeaders(WithHeaders({{"X-API-KEY", "k2"}})), "k2");
  EXPECT_EQ(ApiKeyFromHeaders(WithHeaders({{"Authorization", "Bearer k1"}, {"X-Api-Key", "k2"}})),
            "k1");
  // Another scheme is not a key; X-Api-Key still counts.
  EXPECT_EQ(ApiKeyFromHeaders(WithHeaders({{"Authorization", "Basic abc"}, {"X-Api-Key", "k2"}})),
            "k2");
  EXPECT_EQ(ApiKeyFromHeaders(WithHeaders({{"Authorization", "Basic abc"}})), "");
  EXPECT_EQ(ApiKeyFromHeaders(WithHeaders({})), "");
}

TEST(HttpStatusTest, MapsCodes) {
  const std::map<absl::StatusCode, int> expected = {
      {absl::StatusCode::kOk, 200},
      {absl::StatusCode::kInvalidArgument, 400},
      {absl::StatusCode::kOutOfRange, 400},
      {absl::StatusCode::kFailedPrecondition, 400},
      {absl::StatusCode::kUnauthenticated, 401},
      {absl::StatusCode::kPermissionDenied, 403},
      {absl::StatusCode::kNotFound, 404},
      {absl::StatusCode::kAlreadyExists, 409},
      {absl::StatusCode::kAborted, 409},
      {absl::StatusCode::kResourceExhausted, 429},
      {absl::StatusCode::kInternal, 500},
      {absl::StatusCode::kDataLoss, 500},
      {absl::StatusCode::kUnknown, 500},
      {absl::StatusCode::kCancelled, 500},
      {absl::StatusCode::kUnimplemented, 501},
      {absl::StatusCode::kUnavailable, 503},
      {absl::StatusCode::kDeadlineExceeded, 504},
  };
  for (const auto& [code, status] : expected) {
    EXPECT_EQ(HttpStatusFromStatusCode(code), status) << absl::StatusCodeToString(code);
  }
}

TEST(HttpStatusTest, ResponseFromStatus) {
  Response denied = ResponseFromStatus(absl::UnauthenticatedError("missing API key"));
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(denied.body, "{\"error\":\"missing API key\"}");
  ASSERT_EQ(denied.headers.size(), 1u);
  EXPECT_EQ(denied.headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(denied.headers[0].second, "Bearer");

  Response bad = ResponseFromStatus(absl::InvalidArgumentError("field \"a\"\n"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, "{\"error\":\"field \\\"a\\\"\\u000a\"}");
  EXPECT_TRUE(bad.headers.empty());

  Response internal = ResponseFromStatus(absl::InternalError("redis at 10.0.0.1 said no"));
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body, "{\"error\":\"internal error\"}");
}

class AuthorizeRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("alliance-http-keys-" + std::to_string(getpid()) + ".json"))
                .string();
    ASSERT_TRUE(
        alliance::testing::WriteApiKeyFile(path_, {{"k1", "secret-1", "clinic-a", {"read"}},
                                                   {"k2", "secret-2", "clinic-b", {"submit"}}})
            .ok());
    auto auth = Authorizer::FromKeyFile(path_, absl::Hours(1));
    ASSERT_TRUE(auth.ok()) << auth.status();
    authorizer_ = *std::move(auth);
  }
  void TearDown() override { std::filesystem::remove(path_); }

  std::string path_;
  std::unique_ptr<Authorizer> authorizer_;
};

TEST_F(AuthorizeRequestTest, SameAnswersAsTheGrpcOverload) {
  using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;
  struct Case {
    std::vector<std::pair<std::string, std::string>> headers;
    Metadata metadata;
    Scope scope;
    std::string tenant;
    absl::StatusCode code;
  };
  const std::vector<Case> cases = {
      {{}, {}, Scope::kRead, "", absl::StatusCode::kUnauthenticated},
      {{{"Authorization", "Bearer nope"}},
       {{"authorization", "Bearer nope"}},
       Scope::kRead,
       "",
       absl::StatusCode::kUnauthenticated},
      {{{"Authorization", "Bearer secret-1"}},
       {{"authorization", "Bearer secret-1"}},
       Scope::kRead,
       "clinic-a",
       absl::StatusCode::kOk},
      {{{"X-Api-Key", "secret-1"}},
       {{"x-api-key", "secret-1"}},
       Scope::kSubmit,
       "",
       absl::StatusCode::kPermissionDenied},
      {{{"X-Api-Key", "secret-1"}},
       {{"x-api-key", "secret-1"}},
       Scope::kRead,
       "clinic-b",
       absl::StatusCode::kPermissionDenied},
  };
  for (const Case& c : cases) {
    auto http = AuthorizeRequest(*authorizer_, WithHeaders(c.headers), c.scope, c.tenant);
    auto grpc = authorizer_->Authorize(c.metadata, c.scope, c.tenant);
    EXPECT_EQ(http.status().code(), c.code) << http.status();
    EXPECT_EQ(http.status(), grpc.status());
    if (http.ok()) {
      EXPECT_EQ(http->key_id, "k1");
      EXPECT_EQ(http->tenant_id, "clinic-a");
    }
  }
}

}  // namespace
}  // namespace alliance::http
