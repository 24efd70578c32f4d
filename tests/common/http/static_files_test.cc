// StaticFiles (common/http/static_files.h): a folder read into memory within its bounds, hidden
// names, symbolic links and other non-regular entries never read, odd names refused, and its
// routes on a real loopback Server: GET / and every file with Content-Type, Cache-Control,
// ETag (304 when the browser has it) and the security headers, nothing else reachable.
#include "common/http/static_files.h"

#include <httplib.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace alliance::http {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/alliance-static-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ / "web";
    fs::create_directories(root_ / "vendor");
    Write("index.html", "<!doctype html><title>t</title>");
    Write("app.js", "export const a = 1;\n");
    Write("vendor/lib.min.css", "body{}");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  void Write(const std::string& relative, const std::string& content, const fs::path& under = {}) {
    std::ofstream out((under.empty() ? root_ : under) / relative, std::ios::binary);
    out << content;
  }
  absl::StatusOr<StaticFiles> Load(StaticFilesLimits limits = {}) {
    return StaticFiles::Load(root_.string(), limits);
  }

  fs::path base_;
  fs::path root_;
};

TEST_F(StaticFilesTest, ReadsEveryRegularFileWithItsType) {
  absl::StatusOr<StaticFiles> files = Load();
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->file_count(), 3u);
  ASSERT_NE(files->Find(""), nullptr);
  EXPECT_EQ(files->Find("")->body, "<!doctype html><title>t</title>");
  EXPECT_EQ(files->Find("")->content_type, "text/html; charset=utf-8");
  ASSERT_NE(files->Find("app.js"), nullptr);
  EXPECT_EQ(files->Find("app.js")->content_type, "text/javascript; charset=utf-8");
  ASSERT_NE(files->Find("vendor/lib.min.css"), nullptr);
  EXPECT_EQ(files->Find("vendor/lib.min.css")->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(files->Find("missing.js"), nullptr);
  EXPECT_EQ(files->Find("vendor"), nullptr);
  EXPECT_EQ(files->total_bytes(), 31u + 20u + 6u);
  // Same content, same tag; another content, another.
  EXPECT_EQ(files->Find("app.js")->etag.front(), '"');
  EXPECT_NE(files->Find("app.js")->etag, files->Find("")->etag);
}

TEST_F(StaticFilesTest, TypesByExtension) {
  EXPECT_EQ(ContentTypeFor("a.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("a.JSON"), "application/json");
  EXPECT_EQ(ContentTypeFor("a.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("a.bin"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("js"), "application/octet-stream");
}

TEST_F(StaticFilesTest, HiddenNamesLinksAndOtherEntriesAreNeverRead) {
  Write(".env", "secret");
  fs::create_directories(root_ / ".git");
  Write(".git/config", "secret");
  Write("outside.txt", "outside", base_);
  fs::create_symlink(base_ / "outside.txt", root_ / "link.txt");
  fs::create_directory_symlink(base_, root_ / "up");
  ASSERT_EQ(mkfifo((root_ / "fifo").c_str(), 0600), 0);
  absl::StatusOr<StaticFiles> files = Load();
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->file_count(), 3u);
  EXPECT_EQ(files->Find(".env"), nullptr);
  EXPECT_EQ(files->Find(".git/config"), nullptr);
  EXPECT_EQ(files->Find("link.txt"), nullptr);
  EXPECT_EQ(files->Find("up/outside.txt"), nullptr);
  EXPECT_EQ(files->Find("fifo"), nullptr);
}

TEST_F(StaticFilesTest, RefusesWhatItCannotServeSafely) {
  {
    Write("{id}.js", "x");  // would read as a route capture
    absl::StatusOr<StaticFiles> files = Load();
    EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(files.status().message().find("{id}.js"), std::string::npos) << files.status();
    fs::remove(root_ / "{id}.js");
  }
  {
    Write("a b.js", "x");
    EXPECT_FALSE(Load().ok());
    fs::remove(root_ / "a b.js");
  }
  EXPECT_FALSE(StaticFiles::Load((root_ / "missing").string()).ok());
  EXPECT_FALSE(StaticFiles::Load((root_ / "app.js").string()).ok());
  EXPECT_FALSE(StaticFiles::Load("").ok());
  fs::remove(root_ / "index.html");
  absl::StatusOr<StaticFiles> no_index = Load();
  EXPECT_EQ(no_index.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_index.status().message().find("index.html"), std::string::npos);
}

TEST_F(StaticFilesTest, Bounds) {
  StaticFilesLimits limits;
  limits.max_files = 2;
  EXPECT_NE(Load(limits).status().message().find("more than 2 files"), std::string::npos);

  limits = {};
  limits.max_file_bytes = 30;  // index.html is 31 bytes
  EXPECT_NE(Load(limits).status().message().find("index.html is larger than 30"), std::string::npos)
      << Load(limits).status();
  limits.max_file_bytes = 31;
  EXPECT_TRUE(Load(limits).ok());

  limits = {};
  limits.max_total_bytes = 56;  // 57 in all
  EXPECT_NE(Load(limits).status().message().find("bytes in all"), std::string::npos);
  limits.max_total_bytes = 57;
  EXPECT_TRUE(Load(limits).ok());

  limits = {};
  limits.max_depth = 0;  // vendor/ is one deep
  EXPECT_NE(Load(limits).status().message().find("vendor is more than 0 folders deep"),
            std::string::npos)
      << Load(limits).status();
  limits.max_depth = 1;
  EXPECT_TRUE(Load(limits).ok());
}

TEST_F(StaticFilesTest, ResponsesCarryTheHeadersAnd304WhenUnchanged) {
  absl::StatusOr<StaticFiles> files = Load();
  ASSERT_TRUE(files.ok());
  const StaticFiles::File& js = *files->Find("app.js");
  auto header = [](const Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return std::string();
  };
  Response ok = StaticFiles::ResponseFor(js, "");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, js.body);
  EXPECT_EQ(header(ok, "ETag"), js.etag);
  EXPECT_EQ(header(ok, "Cache-Control"), "no-cache");
  EXPECT_NE(header(ok, "Content-Security-Policy").find("script-src 'self';"), std::string::npos);
  EXPECT_EQ(StaticFiles::ResponseFor(js, "\"other\"").status, 200);
  for (const std::string& tag :
       {js.etag, absl::StrCat("W/", js.etag), absl::StrCat("\"x\", ", js.etag), std::string("*")}) {
    Response not_modified = StaticFiles::ResponseFor(js, tag);
    EXPECT_EQ(not_modified.status, 304) << tag;
    EXPECT_TRUE(not_modified.body.empty());
    EXPECT_EQ(header(not_modified, "ETag"), js.etag);
  }
}

TEST_F(StaticFilesTest, ServedOverHttpAndNothingElse) {
  Write("secret.txt", "outside", base_);
  absl::StatusOr<StaticFiles> files = Load();
  ASSERT_TRUE(files.ok());
  Router router;
  files->AddRoutes(router);
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(ServerOptions{}, std::move(router));
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_read_timeout(20, 0);

  httplib::Result index = client.Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->body, "<!doctype html><title>t</title>");
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(index->get_header_value("Content-Security-Policy"),
            "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'");
  EXPECT_EQ(index->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(index->get_header_value("Referrer-Policy"), "no-referrer");
  const std::string etag = index->get_header_value("ETag");
  EXPECT_FALSE(etag.empty());

  httplib::Result again = client.Get("/index.html", {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());

  httplib::Result css = client.Get("/vendor/lib.min.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->status, 200);
  EXPECT_EQ(css->body, "body{}");
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");

  for (const char* path :
       {"/../secret.txt", "/vendor/../../secret.txt", "/%2e%2e/secret.txt",
        "/vendor/..%2f..%2fsecret.txt", "/vendor", "/vendor/", "/app.js/", "/missing.js"}) {
    httplib::Result r = client.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_NE(r->status, 200) << path;
    EXPECT_EQ(r->body.find("outside"), std::string::npos) << path;
  }
  httplib::Result post = client.Post("/app.js", "", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  (*server)->Shutdown(absl::Now());
}

}  // namespace
}  // namespace alliance::http
