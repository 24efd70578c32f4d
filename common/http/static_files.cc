// StaticFiles: the folder read into memory at start-up, and its GET routes (static_files.h).
#include "common/http/static_files.h"

#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/strings.h"

namespace alliance::http {
namespace {

namespace fs = std::filesystem;

// Letters, digits, '.', '_' and '-': no '{x}' (a route capture), no escapes, no spaces.
bool PlainName(std::string_view name) {
  if (name.empty() || name.front() == '.') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string QuotedDigest(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::string out = "\"";
  char buf[3];
  // 128 bits name a version well enough; the whole digest would only lengthen every header.
  for (unsigned int i = 0; i < length && i < 16; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    out.append(buf, 2);
  }
  out.push_back('"');
  return out;
}

// True when an If-None-Match value ("*", or a list of possibly weak tags) names `etag`.
bool MatchesEtag(std::string_view if_none_match, std::string_view etag) {
  for (absl::string_view tag : absl::StrSplit(Absl(if_none_match), ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    if (tag == "*") return true;
    absl::ConsumePrefix(&tag, "W/");
    if (Std(tag) == etag) return true;
  }
  return false;
}

class Loader {
 public:
  explicit Loader(const StaticFilesLimits& limits) : limits_(limits) {}

  absl::Status Walk(const fs::path& dir, const std::string& prefix, int depth,
                    std::map<std::string, StaticFiles::File, std::less<>>* files) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("web root: cannot read ", dir.string(), ": ", ec.message()));
    }
    // Entries are bounded by max_files (files) and max_files again (folders and skipped ones).
    size_t entries = 0;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) return absl::InvalidArgumentError(absl::StrCat("web root: ", ec.message()));
      if (++entries > 2 * limits_.max_files) {
        return absl::InvalidArgumentError(absl::StrCat(
            "web root: more than ", 2 * limits_.max_files, " entries in ", dir.string()));
      }
      const std::string name = it->path().filename().string();
      if (!name.empty() && name.front() == '.') continue;
      // symlink_status: a link is never followed, so nothing outside the root is read.
      fs::file_status status = it->symlink_status(ec);
      if (ec) return absl::InvalidArgumentError(absl::StrCat("web root: ", ec.message()));
      if (!fs::is_directory(status) && !fs::is_regular_file(status)) continue;
      if (!PlainName(name)) {
        return absl::InvalidArgumentError(
            absl::StrCat("web root: unsupported file name ", prefix, name,
                         " (letters, digits, '.', '_' and '-' only)"));
      }
      const std::string relative = absl::StrCat(prefix, name);
      if (fs::is_directory(status)) {
        if (depth >= limits_.max_depth) {
          return absl::InvalidArgumentError(absl::StrCat("web root: ", relative, " is more than ",
                                                         limits_.max_depth, " folders deep"));
        }
        if (absl::Status s = Walk(it->path(), relative + "/", depth + 1, files); !s.ok()) return s;
        continue;
      }
      if (files->size() >= limits_.max_files) {
        return absl::InvalidArgumentError(
            absl::StrCat("web root: more than ", limits_.max_files, " files"));
      }
      absl::StatusOr<std::string> body = Read(it->path(), relative);
      if (!body.ok()) return body.status();
      total_ += body->size();
      if (total_ > limits_.max_total_bytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("web root: more than ", limits_.max_total_bytes, " bytes in all"));
      }
      StaticFiles::File file;
      file.content_type = ContentTypeFor(name);
      file.etag = QuotedDigest(*body);
      file.body = *std::move(body);
      files->emplace(relative, std::move(file));
    }
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<std::string> Read(const fs::path& path, const std::string& relative) const {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("web root: cannot open ", relative));
    std::string body;
    char buf[16384];
    // Reads at most one byte past the bound, however large the file has grown meanwhile.
    while (in && body.size() <= limits_.max_file_bytes) {
      in.read(buf, sizeof buf);
      body.append(buf, static_cast<size_t>(in.gcount()));
    }
    if (in.bad())
      return absl::InvalidArgumentError(absl::StrCat("web root: cannot read ", relative));
    if (body.size() > limits_.max_file_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("web root: ", relative, " is larger than ",
                                                     limits_.max_file_bytes, " bytes"));
    }
    return body;
  }

  const StaticFilesLimits& limits_;
  size_t total_ = 0;
};

}  // namespace

const std::vector<std::pair<std::string, std::string>>& StaticSecurityHeaders() {
  static const auto* headers = new std::vector<std::pair<std::string, std::string>>{
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
  };
  return *headers;
}

std::string ContentTypeFor(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (absl::EndsWithIgnoreCase(Absl(path), Absl(ext))) return std::string(type);
  }
  return "application/octet-stream";
}

absl::StatusOr<StaticFiles> StaticFiles::Load(const std::string& root, StaticFilesLimits limits) {
  std::error_code ec;
  if (root.empty() || !fs::is_directory(fs::status(root, ec))) {
    return absl::InvalidArgumentError(absl::StrCat("web root: ", root, " is not a folder"));
  }
  auto files = std::make_shared<Files>();
  Loader loader(limits);
  if (absl::Status s = loader.Walk(fs::path(root), "", 0, files.get()); !s.ok()) return s;
  if (files->find("index.html") == files->end()) {
    return absl::InvalidArgumentError(absl::StrCat("web root: ", root, " has no index.html"));
  }
  return StaticFiles(std::move(files));
}

const StaticFiles::File* StaticFiles::Find(std::string_view relative_path) const {
  if (relative_path.empty()) relative_path = "index.html";
  auto it = files_->find(relative_path);
  return it == files_->end() ? nullptr : &it->second;
}

Response StaticFiles::ResponseFor(const File& file, std::string_view if_none_match) {
  Response response;
  response.content_type = file.content_type;
  response.headers = StaticSecurityHeaders();
  // no-cache: the browser may keep a copy but asks every time (a 304 when unchanged), so a new
  // release is seen at once and no page outlives the server's.
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("ETag", file.etag);
  if (!if_none_match.empty() && MatchesEtag(if_none_match, file.etag)) {
    response.status = 304;
    return response;
  }
  response.body = file.body;
  return response;
}

void StaticFiles::AddRoutes(Router& router) const {
  // One literal route per file: the router matches whole segments, so no other path (and no
  // "..") ever reaches these handlers.
  auto serve = [files = files_](const std::string& relative) {
    return [files, relative](Request request, Responder responder) {
      const File& file = files->at(relative);
      std::move(responder)(ResponseFor(file, request.Header("If-None-Match")));
    };
  };
  router.Handle("GET", "/", serve("index.html"));
  for (const auto& [relative, file] : *files_) {
    router.Handle("GET", absl::StrCat("/", relative), serve(relative));
  }
}

size_t StaticFiles::total_bytes() const {
  size_t total = 0;
  for (const auto& [relative, file] : *files_) total += file.body.size();
  return total;
}

}  // namespace alliance::http
