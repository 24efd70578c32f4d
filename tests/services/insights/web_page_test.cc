// The dashboard page served by the real alliance-insights with --web_root=<build>/web (the
// folder the alliance_web target assembles; docs/dashboard.md, "The page"): the page and the
// vendored uPlot come with their Content-Type, Cache-Control: no-cache, ETag and the security
// headers; the API beside them still answers; nothing else is served. Without --web_root no
// page is served (the plain fixture).
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/services/insights/insights_fixture.h"
#include "tests/support/api_keys.h"

namespace alliance::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

constexpr char kCsp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

constexpr char kRead[] = "web-read-a-6e0b3d19c4";

class WebPageTest : public InsightsFixture {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    std::string keys = absl::StrCat(redis_.dir(), "/api-keys.json");
    EXPECT_TRUE(WriteApiKeyFile(keys, {{"ra", kRead, "clinic-a", {"read"}}}).ok());
    return {absl::StrCat("--api_keys_file=", keys), absl::StrCat("--web_root=", ALLIANCE_WEB_ROOT)};
  }
  void ExpectPageHeaders(const httplib::Result& r, const std::string& type) const {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), type);
    EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache");
    EXPECT_EQ(r->get_header_value("Content-Security-Policy"), kCsp);
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer");
    EXPECT_FALSE(r->get_header_value("ETag").empty());
  }
};

TEST_F(WebPageTest, ServesThePageAndUplotWithTheirHeaders) {
  httplib::Client client("127.0.0.1", http_port_);
  client.set_read_timeout(20, 0);
  httplib::Result index = client.Get("/");
  ExpectPageHeaders(index, "text/html; charset=utf-8");
  EXPECT_EQ(index->body, ReadFile(absl::StrCat(ALLIANCE_WEB_ROOT, "/index.html")));
  // No inline script or style: every script is a file of the folder (the CSP allows no other).
  EXPECT_NE(index->body.find("<script type=\"module\" src=\"app.js\"></script>"),
            std::string::npos);
  EXPECT_EQ(index->body.find("<script>"), std::string::npos);
  EXPECT_EQ(index->body.find("style="), std::string::npos);

  httplib::Result app = client.Get("/app.js");
  ExpectPageHeaders(app, "text/javascript; charset=utf-8");

  httplib::Result uplot = client.Get("/vendor/uPlot.iife.min.js");
  ExpectPageHeaders(uplot, "text/javascript; charset=utf-8");
  EXPECT_EQ(uplot->body, ReadFile(absl::StrCat(ALLIANCE_WEB_ROOT, "/vendor/uPlot.iife.min.js")));
  EXPECT_GT(uplot->body.size(), 10000u);
  httplib::Result css = client.Get("/vendor/uPlot.min.css");
  ExpectPageHeaders(css, "text/css; charset=utf-8");

  // The browser's copy is still good: 304, no body.
  httplib::Result again =
      client.Get("/vendor/uPlot.iife.min.js", {{"If-None-Match", uplot->get_header_value("ETag")}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());

  // The API beside the page, and the page needs no key.
  httplib::Result dyads =
      client.Get("/api/v1/dyads", {{"Authorization", absl::StrCat("Bearer ", kRead)}});
  ASSERT_TRUE(dyads);
  EXPECT_EQ(dyads->status, 200) << dyads->body;
  EXPECT_EQ(dyads->get_header_value("Content-Type"), "application/json");

  for (const char* path : {"/missing.js", "/vendor/", "/../index.html", "/vendor/../app.js/x"}) {
    httplib::Result r = client.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
}

class NoWebRootTest : public InsightsFixture {};

TEST_F(NoWebRootTest, ServesNoPage) {
  httplib::Client client("127.0.0.1", http_port_);
  client.set_read_timeout(20, 0);
  for (const char* path : {"/", "/index.html", "/app.js"}) {
    httplib::Result r = client.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
}

}  // namespace
}  // namespace alliance::testing
