// Route matching and Request accessors behind http_server.h (no Beast here).
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "common/http/http_server.h"
#include "common/strings.h"

namespace alliance::http {

struct Router::Route {
  std::string method;
  std::string pattern;
  // Literal segments, or empty with `capture` set for {x}.
  struct Segment {
    std::string literal;
    bool capture = false;
  };
  std::vector<Segment> segments;
  Handler handler;

  // True when `path` has this route's shape; fills `params` with the captures.
  bool Matches(const std::vector<std::string>& path, std::vector<std::string>* params) const {
    if (path.size() != segments.size()) return false;
    std::vector<std::string> captured;
    for (size_t i = 0; i < path.size(); ++i) {
      if (segments[i].capture) {
        if (path[i].empty()) return false;
        captured.push_back(path[i]);
      } else if (path[i] != segments[i].literal) {
        return false;
      }
    }
    if (params != nullptr) *params = std::move(captured);
    return true;
  }
};

Router::Router() = default;
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::Handle(std::string method, std::string pattern, Handler handler) {
  Route route;
  route.method = std::move(method);
  route.pattern = pattern;
  // "/a/{id}/b" -> "a", {id}, "b"; "/" -> one empty literal segment, like the path "/".
  std::string_view rest(pattern);
  if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  while (true) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    Route::Segment s;
    if (segment.size() >= 2 && segment.front() == '{' && segment.back() == '}') {
      s.capture = true;
    } else {
      s.literal = std::string(segment);
    }
    route.segments.push_back(std::move(s));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

Router::Match Router::Find(std::string_view method, const std::vector<std::string>& segments,
                           const Handler** handler, std::string* pattern,
                           std::vector<std::string>* params, std::string* allow) const {
  std::vector<std::string> allowed;
  for (const Route& route : routes_) {
    if (route.method == method) {
      if (route.Matches(segments, params)) {
        *handler = &route.handler;
        *pattern = route.pattern;
        return Match::kFound;
      }
    } else if (route.Matches(segments, nullptr)) {
      bool seen = false;
      for (const std::string& m : allowed) seen = seen || m == route.method;
      if (!seen) allowed.push_back(route.method);
    }
  }
  if (allowed.empty()) return Match::kNotFound;
  *allow = absl::StrJoin(allowed, ", ");
  return Match::kMethodNotAllowed;
}

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(Absl(key), Absl(name))) return value;
  }
  return {};
}

std::string_view Request::QueryParam(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return {};
}

}  // namespace alliance::http
