// A folder of static files (the dashboard page: HTML, ES modules, CSS) served from memory:
// read once at start-up within bounds (file count, file size, total size, depth), regular files
// only (symbolic links and hidden names are never read), so nothing else on disk is reachable
// through the HTTP port. Each file answers GET /<relative path>, and index.html also GET /, with
// its Content-Type, `Cache-Control: no-cache`, a strong ETag (304 on If-None-Match) and the
// page's security headers (a strict Content-Security-Policy: no inline script or style, no
// other origin; no framing; nosniff; no referrer). docs/dashboard.md, "The page".
#ifndef ALLIANCE_COMMON_HTTP_STATIC_FILES_H_
#define ALLIANCE_COMMON_HTTP_STATIC_FILES_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/http/http_server.h"

namespace alliance::http {

struct StaticFilesLimits {
  size_t max_files = 256;
  size_t max_file_bytes = 4 << 20;
  size_t max_total_bytes = 16 << 20;
  int max_depth = 6;  // folders below the root
};

// The headers every static response carries (besides Content-Type and ETag).
const std::vector<std::pair<std::string, std::string>>& StaticSecurityHeaders();

// "text/javascript; charset=utf-8" for "app.js", ...; application/octet-stream when unknown.
std::string ContentTypeFor(std::string_view path);

class StaticFiles {
 public:
  struct File {
    std::string content_type;
    std::string etag;  // quoted, e.g. "\"3f2a...\""
    std::string body;
  };

  // Reads every regular file under `root`. INVALID_ARGUMENT when root is not a readable folder,
  // has no index.html, a name holds a character outside [A-Za-z0-9._-], or a bound is passed.
  // Names starting with '.', symbolic links and other non-regular entries are skipped.
  static absl::StatusOr<StaticFiles> Load(const std::string& root, StaticFilesLimits limits = {});

  // The file at a relative path ("app.js", "vendor/uPlot.min.css"; "" for index.html); null
  // when there is none.
  const File* Find(std::string_view relative_path) const;
  // 200 with the file, or 304 with no body when `if_none_match` names its ETag.
  static Response ResponseFor(const File& file, std::string_view if_none_match);

  // Registers GET / and GET /<path> for every file. The files are shared with the handlers.
  void AddRoutes(Router& router) const;

  size_t file_count() const { return files_->size(); }
  size_t total_bytes() const;

 private:
  using Files = std::map<std::string, File, std::less<>>;
  explicit StaticFiles(std::shared_ptr<const Files> files) : files_(std::move(files)) {}
  std::shared_ptr<const Files> files_;
};

}  // namespace alliance::http

#endif  // ALLIANCE_COMMON_HTTP_STATIC_FILES_H_
