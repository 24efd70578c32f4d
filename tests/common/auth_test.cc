// API keys: the key file format, hashing, scopes, tenants, and reload without restart.
#include "common/auth.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace alliance {
namespace {

using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

std::string KeyFile(const std::string& entries) { return "{\"keys\": [" + entries + "]}"; }

std::string Entry(const std::string& id, const std::string& key, const std::string& tenant,
                  const std::string& scopes) {
  return "{\"id\":\"" + id + "\",\"sha256\":\"" + HashApiKey(key) + "\",\"tenant\":\"" + tenant +
         "\",\"scopes\":[" + scopes + "]}";
}

TEST(HashApiKeyTest, IsSha256Hex) {
  // FIPS 180-2 test vector.
  EXPECT_EQ(HashApiKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiKeyTableTest, ParsesAndLooksUp) {
  auto table =
      ApiKeyTable::Parse(KeyFile(Entry("k1", "secret-1", "clinic-a", "\"submit\"") + "," +
                                 Entry("k2", "secret-2", "clinic-b", "\"read\",\"watch\"")),
                         "keys.json");
  ASSERT_TRUE(table.ok()) << table.status();
  auto p = table->Lookup("secret-2");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->key_id, "k2");
  EXPECT_EQ(p->tenant_id, "clinic-b");
  EXPECT_TRUE(p->Has(Scope::kRead));
  EXPECT_TRUE(p->Has(Scope::kWatch));
  EXPECT_FALSE(p->Has(Scope::kSubmit));
  EXPECT_EQ(table->Lookup("nope").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(ApiKeyTableTest, BadFilesNameSourceAndField) {
  struct Case {
    std::string json;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{
           {"not json", "not valid JSON"},
           {"{}", "'keys'"},
           {KeyFile("{\"id\":\"a\",\"sha256\":\"xyz\",\"tenant\":\"t\",\"scopes\":[\"read\"]}"),
            "keys[0].sha256"},
           {KeyFile(Entry("a", "k", "t", "\"fly\"")), "keys[0].scopes"},
           {KeyFile(Entry("a", "k", "t", "")), "keys[0].scopes"},
           {KeyFile(Entry("a", "k", "t", "\"read\"") + "," + Entry("b", "k", "t", "\"read\"")),
            "keys[1].sha256"},
       }) {
    auto table = ApiKeyTable::Parse(c.json, "secret/keys.json");
    ASSERT_FALSE(table.ok()) << c.json;
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(table.status().message().find("secret/keys.json"), absl::string_view::npos);
    EXPECT_NE(table.status().message().find(c.field), absl::string_view::npos)
        << table.status().message();
  }
}

class AuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("alliance-auth-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "keys.json").string();
    Write(KeyFile(Entry("writer", "w-key", "clinic-a", "\"submit\"") + "," +
                  Entry("reader", "r-key", "clinic-a", "\"read\",\"watch\"")));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& content) {
    std::ofstream(path_ + ".tmp") << content;
    std::filesystem::rename(path_ + ".tmp", path_);  // atomic, like a Secret update
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(AuthorizerTest, ChecksKeyScopeAndTenant) {
  auto auth = Authorizer::FromKeyFile(path_, absl::Hours(1));
  ASSERT_TRUE(auth.ok()) << auth.status();
  Metadata none;
  EXPECT_EQ((*auth)->Authorize(none, Scope::kRead, "").status().code(),
            absl::StatusCode::kUnauthenticated);
  Metadata unknown = {{"authorization", "Bearer guess"}};
  EXPECT_EQ((*auth)->Authorize(unknown, Scope::kRead, "").status().code(),
            absl::StatusCode::kUnauthenticated);
  Metadata reader = {{"authorization", "Bearer r-key"}};
  auto p = (*auth)->Authorize(reader, Scope::kRead, "");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->tenant_id, "clinic-a") << "the tenant comes from the key";
  EXPECT_EQ((*auth)->Authorize(reader, Scope::kSubmit, "clinic-a").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ((*auth)->Authorize(reader, Scope::kRead, "clinic-b").status().code(),
            absl::StatusCode::kPermissionDenied);
  Metadata writer = {{"x-api-key", "w-key"}};
  EXPECT_TRUE((*auth)->Authorize(writer, Scope::kSubmit, "clinic-a").ok());
}

TEST_F(AuthorizerTest, PermissionDeniedNamesTheMissingScope) {
  auto auth = Authorizer::FromKeyFile(path_, absl::Hours(1));
  ASSERT_TRUE(auth.ok()) << auth.status();
  Metadata reader = {{"authorization", "Bearer r-key"}};
  absl::Status denied = (*auth)->Authorize(reader, Scope::kSubmit, "").status();
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(denied.message().find("scope \"submit\""), absl::string_view::npos) << denied;
}

// Every refusal is one `auth_failed` line with its reason, the key id when known and the scope;
// the presented key never appears, and a burst is capped with a count of what was left out.
TEST_F(AuthorizerTest, RefusalsAreLoggedWithoutTheKeyAndABurstIsCapped) {
  auto auth = Authorizer::FromKeyFile(path_, absl::Hours(1));
  ASSERT_TRUE(auth.ok()) << auth.status();
  // A fresh second, so the burst below starts its own window.
  absl::SleepFor(absl::Seconds(1) - absl::Nanoseconds(absl::ToUnixNanos(absl::Now()) % 1000000000));
  ::testing::internal::CaptureStderr();
  Metadata reader = {{"authorization", "Bearer r-key"}};
  Metadata unknown = {{"authorization", "Bearer secret-guess-123"}};
  (void)(*auth)->Authorize(reader, Scope::kAdmin, "");
  (void)(*auth)->Authorize(reader, Scope::kRead, "clinic-b");
  (void)(*auth)->Authorize(Metadata{}, Scope::kRead, "");
  for (int i = 0; i < 100; ++i) (void)(*auth)->Authorize(unknown, Scope::kWatch, "");
  const std::string log = ::testing::internal::GetCapturedStderr();
  auto has_line = [&](std::initializer_list<absl::string_view> fragments) {
    for (absl::string_view line : absl::StrSplit(log, '\n')) {
      bool all = true;
      for (absl::string_view f : fragments) all = all && absl::StrContains(line, f);
      if (all) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_line({"\"event\":\"auth_failed\"", "\"reason\":\"missing_scope\"",
                        "\"key_id\":\"reader\"", "\"scope\":\"admin\""}))
      << log;
  EXPECT_TRUE(has_line({"\"reason\":\"other_tenant\"", "\"key_id\":\"reader\""})) << log;
  EXPECT_NE(log.find("\"reason\":\"missing_key\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"reason\":\"unknown_key\""), std::string::npos) << log;
  EXPECT_EQ(log.find("secret-guess-123"), std::string::npos) << "the key itself is never logged";
  EXPECT_EQ(log.find("r-key"), std::string::npos) << "the key itself is never logged";
  size_t lines = 0;
  for (size_t at = log.find("auth_failed"); at != std::string::npos;
       at = log.find("auth_failed", at + 1)) {
    ++lines;
  }
  EXPECT_LE(lines, 20u * 2) << "at most 20 a second (the burst may straddle one boundary)";
  EXPECT_GE(lines, 20u);
}

TEST_F(AuthorizerTest, ReloadTakesEffectAndBadFileKeepsOldKeys) {
  auto auth = Authorizer::FromKeyFile(path_, absl::Hours(1));
  ASSERT_TRUE(auth.ok());
  Metadata fresh = {{"x-api-key", "new-key"}};
  EXPECT_FALSE((*auth)->Authorize(fresh, Scope::kRead, "").ok());
  Write(KeyFile(Entry("new", "new-key", "clinic-a", "\"read\"")));
  ASSERT_TRUE((*auth)->Reload().ok());
  EXPECT_TRUE((*auth)->Authorize(fresh, Scope::kRead, "").ok());
  Metadata old = {{"x-api-key", "r-key"}};
  EXPECT_FALSE((*auth)->Authorize(old, Scope::kRead, "").ok()) << "removed key still works";

  Write("{broken");
  EXPECT_FALSE((*auth)->Reload().ok());
  EXPECT_TRUE((*auth)->Authorize(fresh, Scope::kRead, "").ok()) << "last good keys must stay";
}

// A key known only by its hash (a dashboard session's) gets the key's own answers, and a key
// removed from the file is refused by its hash too.
TEST_F(AuthorizerTest, AKeyHashIsAuthorizedAsItsKey) {
  auto auth = Authorizer::FromKeyFile(path_, absl::Hours(1));
  ASSERT_TRUE(auth.ok()) << auth.status();
  const std::string reader = HashApiKey("r-key");
  auto p = (*auth)->AuthorizeKeyHash(reader, Scope::kRead, "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->key_id, "reader");
  EXPECT_EQ(p->tenant_id, "clinic-a");
  EXPECT_EQ((*auth)->AuthorizeKeyHash(reader, Scope::kSubmit, "").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ((*auth)->AuthorizeKeyHash(reader, Scope::kRead, "clinic-b").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ((*auth)->AuthorizeKeyHash("", Scope::kRead, "").status().code(),
            absl::StatusCode::kUnauthenticated);
  // The key itself is not its hash.
  EXPECT_EQ((*auth)->AuthorizeKeyHash("r-key", Scope::kRead, "").status().code(),
            absl::StatusCode::kUnauthenticated);
  Write(KeyFile(Entry("writer", "w-key", "clinic-a", "\"submit\"")));
  ASSERT_TRUE((*auth)->Reload().ok());
  EXPECT_EQ((*auth)->AuthorizeKeyHash(reader, Scope::kRead, "").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(AuthorizerDisabledTest, TrustsRequestedTenant) {
  Authorizer auth;
  EXPECT_FALSE(auth.enabled());
  auto p = auth.Authorize(Metadata{}, Scope::kAdmin, "clinic-z");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->tenant_id, "clinic-z");
}

}  // namespace
}  // namespace alliance
