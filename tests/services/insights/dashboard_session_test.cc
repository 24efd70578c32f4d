// Dashboard sign-in (docs/dashboard.md, "Sign-in") on the real alliance-insights against a real
// redis-server: the cookie's flags and the session body, wrong keys and scopes, reads by cookie
// scoped to the key's tenant as by the key, the CSRF token on writes, sign-out, a session used
// on a second process sharing the Redis after the first stopped, a key removed from the key
// file ending its sessions, the SSE stream by cookie, expiry, what Redis holds (hashes only),
// the Secure flag on a TLS port, the signed-in hint cookie (set and cleared with the session
// cookie, same flags but readable by scripts, no secret), and POST
// /api/v1/alerts/{id}/snooze. Every wait is bounded; nothing is timed.
#include <google/protobuf/util/time_util.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/services/insights/insights_fixture.h"
#include "tests/support/api_keys.h"
#include "tests/support/child_process.h"
#include "tests/support/test_certificates.h"

namespace alliance::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKeyA[] = "sess-read-a-3f9b2c71e0";
constexpr char kKeyB[] = "sess-read-b-c04d18a6b2";
constexpr char kWatchOnly[] = "sess-watch-a-77e1a9d302";

struct Got {
  int status = 0;
  std::string body;
  nlohmann::json json;
  std::string set_cookie;  // the Set-Cookie of alliance_session
  std::string set_hint;    // the Set-Cookie of alliance_signed_in
  int set_cookies = 0;     // how many Set-Cookie headers
};

// The value of the Set-Cookie header of `result` that sets cookie `name`; empty if none.
std::string SetCookieOf(const httplib::Response& result, const std::string& name) {
  const size_t n = result.get_header_value_count("Set-Cookie");
  for (size_t i = 0; i < n; ++i) {
    std::string value = result.get_header_value("Set-Cookie", i);
    if (value.rfind(name + "=", 0) == 0) return value;
  }
  return "";
}

// What a browser sends: the cookie, and the CSRF token when the page adds it.
struct Credentials {
  std::string key;     // Authorization: Bearer
  std::string cookie;  // alliance_session=<value>
  std::string csrf;    // X-CSRF-Token
};

Credentials Key(std::string key) {
  Credentials c;
  c.key = std::move(key);
  return c;
}
Credentials Cookie(std::string cookie, std::string csrf = "") {
  Credentials c;
  c.cookie = std::move(cookie);
  c.csrf = std::move(csrf);
  return c;
}

Got Send(int port, const std::string& method, const std::string& path, const Credentials& c,
         const std::string& body = "") {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(20, 0);
  httplib::Headers headers;
  if (!c.key.empty()) headers.emplace("Authorization", absl::StrCat("Bearer ", c.key));
  if (!c.cookie.empty()) {
    headers.emplace("Cookie", absl::StrCat("theme=dark; alliance_session=", c.cookie, "; x=1"));
  }
  if (!c.csrf.empty()) headers.emplace("X-CSRF-Token", c.csrf);
  httplib::Result result = method == "POST"
                               ? client.Post(path.c_str(), headers, body, "application/json")
                           : method == "DELETE" ? client.Delete(path.c_str(), headers)
                                                : client.Get(path.c_str(), headers);
  Got got;
  if (!result) {
    ADD_FAILURE() << "no HTTP response for " << method << " " << path;
    return got;
  }
  got.status = result->status;
  got.body = result->body;
  got.set_cookie = SetCookieOf(*result, "alliance_session");
  got.set_hint = SetCookieOf(*result, "alliance_signed_in");
  got.set_cookies = static_cast<int>(result->get_header_value_count("Set-Cookie"));
  got.json = nlohmann::json::parse(result->body, nullptr, false);
  return got;
}

// The token of "alliance_session=<token>; ...".
std::string CookieToken(const std::string& set_cookie) {
  const std::string prefix = "alliance_session=";
  if (set_cookie.rfind(prefix, 0) != 0) return "";
  return set_cookie.substr(prefix.size(), set_cookie.find(';') - prefix.size());
}

class DashboardSessionTest : public InsightsFixture {
 protected:
  std::string KeyFile() const { return absl::StrCat(redis_.dir(), "/api-keys.json"); }
  std::vector<TestKey> Keys() const {
    return {{"ka", kKeyA, "clinic-a", {"read", "watch"}},
            {"kb", kKeyB, "clinic-b", {"read"}},
            {"kw", kWatchOnly, "clinic-a", {"watch"}}};
  }
  std::vector<std::string> ExtraFlags() const override {
    EXPECT_TRUE(WriteApiKeyFile(KeyFile(), Keys()).ok());
    return {absl::StrCat("--api_keys_file=", KeyFile()), "--api_keys_reload_s=1",
            "--heartbeat_ms=200"};
  }
  void SetUp() override {
    InsightsFixture::SetUp();
    if (HasFatalFailure()) return;
    alert_ = MakeAlert("clinic-a", "t1", "c1", 1);
    auto record = MakeDyad("clinic-a", "t1", "c1");
    *record.add_alerts() = alert_;
    WriteDyads({record, MakeDyad("clinic-b", "t1", "c2")});
    AppendAlerts({alert_});
  }

  Got Call(const std::string& method, const std::string& path, const Credentials& c,
           const std::string& body = "") const {
    return Send(http_port_, method, path, c, body);
  }
  // Signs in with `key`; the session's cookie token and CSRF token.
  Credentials SignIn(const std::string& key) const {
    Got got = Call("POST", "/api/v1/session", {}, nlohmann::json{{"apiKey", key}}.dump());
    EXPECT_EQ(got.status, 200) << got.body;
    Credentials c;
    c.cookie = CookieToken(got.set_cookie);
    c.csrf = got.json.value("csrfToken", "");
    EXPECT_FALSE(c.cookie.empty()) << got.set_cookie;
    return c;
  }
  // The Redis keys of sessions.
  std::vector<std::string> SessionKeys() const {
    auto reply = conn_->Command({"KEYS", "alliance:session:*"});
    std::vector<std::string> keys;
    if (!reply.ok()) return keys;
    for (size_t i = 0; i < (*reply)->elements; ++i) keys.emplace_back((*reply)->element[i]->str);
    return keys;
  }

  alliance::v1::Alert alert_;
};

TEST_F(DashboardSessionTest, SignInSetsAnHttpOnlyStrictCookieAndAnswersTheSession) {
  Got got = Call("POST", "/api/v1/session", {}, nlohmann::json{{"apiKey", kKeyA}}.dump());
  ASSERT_EQ(got.status, 200) << got.body;
  const std::string token = CookieToken(got.set_cookie);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_THAT(got.set_cookie, HasSubstr("; Path=/"));
  EXPECT_THAT(got.set_cookie, HasSubstr("; Max-Age=28800"));  // 8h, the default
  EXPECT_THAT(got.set_cookie, HasSubstr("; HttpOnly"));
  EXPECT_THAT(got.set_cookie, HasSubstr("; SameSite=Strict"));
  EXPECT_THAT(got.set_cookie, Not(HasSubstr("Secure")));  // plain HTTP here (below: TLS)
  // The hint for the page: the same Path, Max-Age and SameSite, readable by scripts, and no
  // secret in it (it authorizes nothing).
  EXPECT_EQ(got.set_hint, "alliance_signed_in=1; Path=/; Max-Age=28800; SameSite=Strict");
  EXPECT_EQ(got.set_cookies, 2);
  EXPECT_EQ(got.json["keyId"], "ka");
  EXPECT_EQ(got.json["tenantId"], "clinic-a");
  EXPECT_EQ(got.json["scopes"], nlohmann::json::array({"read", "watch"}));
  const std::string csrf = got.json.value("csrfToken", "");
  EXPECT_EQ(csrf.size(), 64u);
  EXPECT_NE(csrf, token);
  google::protobuf::Timestamp expires;
  ASSERT_TRUE(
      google::protobuf::util::TimeUtil::FromString(got.json.value("expiresAt", ""), &expires));
  const absl::Time expires_at = absl::FromUnixSeconds(expires.seconds());
  EXPECT_GT(expires_at, absl::Now() + absl::Hours(7));
  EXPECT_LT(expires_at, absl::Now() + absl::Hours(9));

  // Redis holds hashes only: the key is the token's SHA-256, the key's SHA-256 a field; neither
  // the token nor the key appears anywhere.
  ASSERT_EQ(SessionKeys(), std::vector<std::string>{"alliance:session:" + HashApiKey(token)});
  auto hash = conn_->Command({"HGETALL", "alliance:session:" + HashApiKey(token)});
  ASSERT_TRUE(hash.ok());
  std::string all;
  for (size_t i = 0; i < (*hash)->elements; ++i)
    absl::StrAppend(&all, (*hash)->element[i]->str, " ");
  EXPECT_THAT(all, HasSubstr(HashApiKey(kKeyA)));
  EXPECT_THAT(all, Not(HasSubstr(token)));
  EXPECT_THAT(all, Not(HasSubstr(kKeyA)));
  auto ttl = conn_->Command({"PTTL", "alliance:session:" + HashApiKey(token)});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT((*ttl)->integer, 7 * 3600 * 1000);
  EXPECT_LE((*ttl)->integer, 8 * 3600 * 1000);

  // GET answers the same session (no new cookie).
  Got again = Call("GET", "/api/v1/session", Cookie(token));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json, got.json);
  EXPECT_EQ(again.set_cookies, 0);
  // The hint alone is no session.
  httplib::Client client("127.0.0.1", http_port_);
  client.set_read_timeout(20, 0);
  auto hint_only = client.Get("/api/v1/session", {{"Cookie", "alliance_signed_in=1"}});
  ASSERT_TRUE(hint_only);
  EXPECT_EQ(hint_only->status, 401);
  // The service's log names the key id, never the key, the token or the CSRF token.
  const std::string log = service_.ReadLog();
  EXPECT_THAT(log, HasSubstr("dashboard_signed_in"));
  EXPECT_THAT(log, Not(HasSubstr(kKeyA)));
  EXPECT_THAT(log, Not(HasSubstr(token)));
  EXPECT_THAT(log, Not(HasSubstr(csrf)));
}

TEST_F(DashboardSessionTest, WrongKeysAndScopesAreRefused) {
  Got wrong = Call("POST", "/api/v1/session", {}, R"({"apiKey": "not-a-key"})");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.json["error"]["code"], "UNAUTHENTICATED");
  EXPECT_EQ(wrong.set_cookies, 0);  // neither the session nor the hint
  EXPECT_EQ(Call("POST", "/api/v1/session", {}, R"({"apiKey": ""})").status, 401);
  Got watch_only =
      Call("POST", "/api/v1/session", {}, nlohmann::json{{"apiKey", kWatchOnly}}.dump());
  EXPECT_EQ(watch_only.status, 403);
  EXPECT_EQ(watch_only.json["error"]["code"], "PERMISSION_DENIED");
  EXPECT_EQ(Call("POST", "/api/v1/session", {}, R"({"key": "x"})").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/session", {}, "{not json").status, 400);
  EXPECT_TRUE(SessionKeys().empty());
  // No cookie, an unknown one, or one not of the token's form: 401 on GET and on every route.
  EXPECT_EQ(Call("GET", "/api/v1/session", {}).status, 401);
  const std::string unknown(64, 'a');
  EXPECT_EQ(Call("GET", "/api/v1/session", Cookie(unknown)).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/session", Cookie("short")).status, 401);
  Got read = Call("GET", "/api/v1/dyads/t1/c1", Cookie(unknown));
  EXPECT_EQ(read.status, 401);
  EXPECT_EQ(read.json["error"]["code"], "UNAUTHENTICATED");
  EXPECT_EQ(Call("GET", "/api/v1/instruments", Cookie(unknown)).status, 401);
}

TEST_F(DashboardSessionTest, ReadsByCookieAreScopedToTheKeysTenantAsByTheKey) {
  Credentials a = SignIn(kKeyA);
  const Credentials cookie_only = Cookie(a.cookie);
  Got dyad = Call("GET", "/api/v1/dyads/t1/c1", cookie_only);
  ASSERT_EQ(dyad.status, 200) << dyad.body;
  EXPECT_EQ(dyad.json, Call("GET", "/api/v1/dyads/t1/c1", Key(kKeyA)).json);
  EXPECT_EQ(Call("GET", "/api/v1/dyads", cookie_only).json,
            Call("GET", "/api/v1/dyads", Key(kKeyA)).json);
  EXPECT_EQ(Call("GET", "/api/v1/alerts", cookie_only).json["alerts"].size(), 1u);
  EXPECT_EQ(Call("GET", "/api/v1/instruments", cookie_only).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/dyads/t1/c1/timeline", cookie_only).status, 200);
  // Another tenant's dyad: not found, as with the key; naming the tenant: refused, as with the key.
  EXPECT_EQ(Call("GET", "/api/v1/dyads/t1/c2", cookie_only).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/dyads/t1/c2", Key(kKeyA)).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/dyads/t1/c2?tenant=clinic-b", cookie_only).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/dyads/t1/c2?tenant=clinic-b", Key(kKeyA)).status, 403);
  // A key in the headers wins over the cookie.
  Credentials both = Key(kKeyB);
  both.cookie = a.cookie;
  EXPECT_EQ(Call("GET", "/api/v1/dyads/t1/c2", both).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/dyads/t1/c1", both).status, 404);
}

TEST_F(DashboardSessionTest, WritesByCookieNeedTheSessionsCsrfToken) {
  Credentials a = SignIn(kKeyA);
  const std::string ack = absl::StrCat("/api/v1/alerts/", alert_.alert_id(), "/acknowledge");
  Got none = Call("POST", ack, Cookie(a.cookie), R"({"actor": "u-1"})");
  EXPECT_EQ(none.status, 403);
  EXPECT_THAT(none.json["error"].value("message", ""), HasSubstr("X-CSRF-Token"));
  Got wrong = Call("POST", ack, Cookie(a.cookie, std::string(64, 'f')), R"({"actor": "u-1"})");
  EXPECT_EQ(wrong.status, 403);
  // Another session's token is not this one's.
  Credentials other = SignIn(kKeyA);
  EXPECT_EQ(Call("POST", ack, Cookie(a.cookie, other.csrf), R"({"actor": "u-1"})").status, 403);
  Got status = Call("GET", "/api/v1/alerts", Cookie(a.cookie));
  EXPECT_EQ(status.json["alerts"][0]["status"], "ALERT_STATUS_OPEN");  // nothing was written
  Got right = Call("POST", ack, a, R"({"actor": "u-1"})");
  ASSERT_EQ(right.status, 200) << right.body;
  EXPECT_EQ(right.json["alert"]["status"], "ALERT_STATUS_ACKNOWLEDGED");
  // With the key in the headers no CSRF token is needed (no cookie is involved).
  EXPECT_EQ(Call("POST", absl::StrCat("/api/v1/alerts/", alert_.alert_id(), "/resolve"), Key(kKeyA),
                 R"({"actor": "u-2"})")
                .status,
            200);
}

TEST_F(DashboardSessionTest, SignOutDeletesTheSession) {
  Credentials a = SignIn(kKeyA);
  EXPECT_EQ(Call("DELETE", "/api/v1/session", Cookie(a.cookie)).status, 403);
  EXPECT_EQ(SessionKeys().size(), 1u);
  Got out = Call("DELETE", "/api/v1/session", a);
  EXPECT_EQ(out.status, 204);
  EXPECT_THAT(out.set_cookie, HasSubstr("alliance_session=;"));
  EXPECT_THAT(out.set_cookie, HasSubstr("Max-Age=0"));
  // The hint goes with it, with the flags it was set with.
  EXPECT_EQ(out.set_hint, "alliance_signed_in=; Path=/; Max-Age=0; SameSite=Strict");
  EXPECT_TRUE(SessionKeys().empty());
  EXPECT_EQ(Call("GET", "/api/v1/session", Cookie(a.cookie)).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/dyads/t1/c1", Cookie(a.cookie)).status, 401);
  EXPECT_EQ(Call("DELETE", "/api/v1/session", a).status, 401);
}

TEST_F(DashboardSessionTest, ASessionWorksOnAnotherProcessSharingTheRedisAfterTheFirstStops) {
  Credentials a = SignIn(kKeyA);
  service_.Signal(SIGTERM);
  std::optional<int> code = service_.Wait(absl::Seconds(30));
  ASSERT_TRUE(code.has_value() && *code == 0) << service_.ReadLog();
  const int http_port = FreePort();
  const int grpc_port = FreePort();
  ChildProcess second;
  ASSERT_TRUE(
      second
          .Start(
              BinaryPath("alliance-insights"),
              {absl::StrCat("--redis_port=", redis_.port()),
               absl::StrCat("--grpc_port=", grpc_port), absl::StrCat("--metrics_port=", FreePort()),
               absl::StrCat("--health_port=", FreePort()), absl::StrCat("--http_port=", http_port),
               absl::StrCat("--partitions=", kPartitions),
               absl::StrCat("--api_keys_file=", KeyFile()), "--shutdown_timeout=20s"},
              absl::StrCat(redis_.dir(), "/insights-2.log"))
          .ok());
  ASSERT_TRUE(WaitForPort(http_port, absl::Seconds(20)).ok()) << second.ReadLog();
  EXPECT_EQ(Send(http_port, "GET", "/api/v1/session", Cookie(a.cookie)).json["keyId"], "ka");
  EXPECT_EQ(Send(http_port, "GET", "/api/v1/dyads/t1/c1", Cookie(a.cookie)).status, 200);
  EXPECT_EQ(
      Send(http_port, "POST", absl::StrCat("/api/v1/alerts/", alert_.alert_id(), "/acknowledge"), a,
           R"({"actor": "u-1"})")
          .status,
      200);
  second.Signal(SIGTERM);
  std::optional<int> second_code = second.Wait(absl::Seconds(30));
  EXPECT_TRUE(second_code.has_value() && *second_code == 0) << second.ReadLog();
}

TEST_F(DashboardSessionTest, AKeyRemovedFromTheKeyFileEndsItsSessions) {
  Credentials a = SignIn(kKeyA);
  Credentials b = SignIn(kKeyB);
  ASSERT_EQ(Call("GET", "/api/v1/dyads/t1/c1", Cookie(a.cookie)).status, 200);
  std::vector<TestKey> keys = Keys();
  keys.erase(keys.begin());  // ka
  ASSERT_TRUE(WriteApiKeyFile(KeyFile(), keys).ok());
  // The service re-reads the file every second: bounded polling until the key is gone.
  int status = 0;
  for (int i = 0; i < 200 && status != 401; ++i) {
    status = Call("GET", "/api/v1/dyads/t1/c1", Cookie(a.cookie)).status;
    if (status != 401) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/session", Cookie(a.cookie)).status, 401);
  // The other key's session lives on.
  EXPECT_EQ(Call("GET", "/api/v1/dyads/t1/c2", Cookie(b.cookie)).status, 200);
}

TEST_F(DashboardSessionTest, TheAlertStreamTakesTheCookie) {
  Credentials a = SignIn(kKeyA);
  httplib::Client client("127.0.0.1", http_port_);
  client.set_read_timeout(20, 0);
  int status = 0;
  std::string received;
  const std::string later = MakeAlert("clinic-a", "t2", "c3", 2).alert_id();
  bool appended = false;
  client.Get(
      "/api/v1/alerts/stream", {{"Cookie", absl::StrCat("alliance_session=", a.cookie)}},
      [&](const httplib::Response& response) {
        status = response.status;
        return response.status == 200;
      },
      [&](const char* data, size_t size) {
        received.append(data, size);
        if (!appended && absl::StrContains(received, ": heartbeat ")) {
          appended = true;
          AppendAlerts({MakeAlert("clinic-a", "t2", "c3", 2)});
        }
        return !absl::StrContains(received, later);  // stop once the alert arrived
      });
  EXPECT_EQ(status, 200);
  EXPECT_THAT(received, HasSubstr(later));
  // Without a cookie or with an unknown one: 401.
  httplib::Client plain("127.0.0.1", http_port_);
  plain.set_read_timeout(20, 0);
  auto refused = plain.Get("/api/v1/alerts/stream",
                           {{"Cookie", absl::StrCat("alliance_session=", std::string(64, 'b'))}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
}

TEST_F(DashboardSessionTest, SnoozeOverHttpAsSnoozeAlert) {
  const std::string path = absl::StrCat("/api/v1/alerts/", alert_.alert_id(), "/snooze");
  Got snoozed = Call("POST", path, Key(kKeyA),
                     R"({"actor": "u-1", "reason": "supervision on Thursday",
                         "duration": "7200s", "therapistId": "t1", "clientId": "c1"})");
  ASSERT_EQ(snoozed.status, 200) << snoozed.body;
  EXPECT_EQ(snoozed.json["alert"]["status"], "ALERT_STATUS_SNOOZED");
  EXPECT_EQ(snoozed.json["alert"]["snoozedBy"], "u-1");
  EXPECT_EQ(snoozed.json["alert"]["snoozeReason"], "supervision on Thursday");
  EXPECT_EQ(Call("GET", "/api/v1/alerts", Key(kKeyA)).json["alerts"][0]["status"],
            "ALERT_STATUS_SNOOZED");
  // The gRPC method's checks: each bad input is 400 naming its field.
  Got no_reason = Call("POST", path, Key(kKeyA), R"({"actor": "u-1", "duration": "7200s"})");
  EXPECT_EQ(no_reason.status, 400);
  EXPECT_THAT(no_reason.json["error"].value("message", ""), HasSubstr("reason"));
  Got no_length = Call("POST", path, Key(kKeyA), R"({"actor": "u-1", "reason": "r"})");
  EXPECT_EQ(no_length.status, 400);
  EXPECT_THAT(no_length.json["error"].value("message", ""), HasSubstr("until"));
  EXPECT_EQ(
      Call("POST", path, Key(kKeyA), R"({"actor": "u-1", "reason": "r", "duration": "99999999s"})")
          .status,
      400);
  EXPECT_EQ(Call("POST", path, Key(kKeyA),
                 R"({"alertId": "other", "actor": "u-1", "reason": "r", "duration": "7200s"})")
                .status,
            400);
  // Another tenant's key does not find it; no key: 401 first.
  EXPECT_EQ(
      Call("POST", path, Key(kKeyB), R"({"actor": "u-1", "reason": "r", "duration": "7200s"})")
          .status,
      404);
  EXPECT_EQ(Call("POST", path, {}, R"({"actor": "u-1"})").status, 401);
  // By cookie: with the CSRF token only.
  Credentials a = SignIn(kKeyA);
  const std::string body =
      R"({"actor": "u-2", "reason": "again", "until": "2099-01-01T00:00:00Z"})";
  EXPECT_EQ(Call("POST", path, Cookie(a.cookie), body).status, 403);
  Got until = Call("POST", path, a, R"({"actor": "u-2", "reason": "again", "duration": "3600s"})");
  ASSERT_EQ(until.status, 200) << until.body;
  EXPECT_EQ(until.json["alert"]["snoozedBy"], "u-2");
}

class DashboardSessionExpiryTest : public DashboardSessionTest {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    std::vector<std::string> flags = DashboardSessionTest::ExtraFlags();
    flags.push_back("--session_ttl=2s");
    return flags;
  }
};

TEST_F(DashboardSessionExpiryTest, ASessionEndsAtItsTtl) {
  Got got = Call("POST", "/api/v1/session", {}, nlohmann::json{{"apiKey", kKeyA}}.dump());
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_THAT(got.set_cookie, HasSubstr("; Max-Age=2;"));
  EXPECT_THAT(got.set_hint, HasSubstr("; Max-Age=2;"));  // the browser drops both together
  const std::string token = CookieToken(got.set_cookie);
  // Bounded polling: the session is refused once its 2 s are over, and Redis dropped it.
  int status = 0;
  for (int i = 0; i < 200 && status != 401; ++i) {
    status = Call("GET", "/api/v1/session", Cookie(token)).status;
    if (status != 401) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/dyads/t1/c1", Cookie(token)).status, 401);
  for (int i = 0; i < 200 && !SessionKeys().empty(); ++i) absl::SleepFor(absl::Milliseconds(50));
  EXPECT_TRUE(SessionKeys().empty());
}

// On a port that serves TLS (the gRPC port's certificate flags) the cookie says Secure.
class DashboardSessionTlsTest : public DashboardSessionTest {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    std::vector<std::string> flags = DashboardSessionTest::ExtraFlags();
    EXPECT_TRUE(MakeTestCa(redis_.dir(), "ca").ok());
    EXPECT_TRUE(MakeTestLeaf(redis_.dir(), "server", "ca", "localhost").ok());
    flags.push_back(absl::StrCat("--tls_cert_file=", redis_.dir(), "/server.pem"));
    flags.push_back(absl::StrCat("--tls_key_file=", redis_.dir(), "/server.key"));
    return flags;
  }
};

TEST_F(DashboardSessionTlsTest, TheCookieIsSecure) {
  httplib::SSLClient client("localhost", http_port_);
  client.set_ca_cert_path(absl::StrCat(redis_.dir(), "/ca.pem").c_str());
  client.enable_server_certificate_verification(true);
  client.set_read_timeout(20, 0);
  auto got =
      client.Post("/api/v1/session", nlohmann::json{{"apiKey", kKeyA}}.dump(), "application/json");
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  const std::string set_cookie = SetCookieOf(*got, "alliance_session");
  EXPECT_THAT(set_cookie, HasSubstr("; HttpOnly; SameSite=Strict; Secure"));
  EXPECT_EQ(SetCookieOf(*got, "alliance_signed_in"),
            "alliance_signed_in=1; Path=/; Max-Age=28800; SameSite=Strict; Secure");
  auto session =
      client.Get("/api/v1/session", {{"Cookie", "alliance_session=" + CookieToken(set_cookie)}});
  ASSERT_TRUE(session);
  EXPECT_EQ(session->status, 200);
}

}  // namespace
}  // namespace alliance::testing
