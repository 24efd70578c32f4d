// Parsing and formatting of Redis stream ids.
#include "store/stream_id.h"

#include <charconv>

#include "absl/strings/str_cat.h"

namespace alliance {
namespace {

bool ParseNumber(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string StreamId::ToString() const { return absl::StrCat(ms, "-", seq); }

std::optional<StreamId> StreamId::Parse(std::string_view text) {
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  StreamId id;
  if (!ParseNumber(text.substr(0, dash), &id.ms) || !ParseNumber(text.substr(dash + 1), &id.seq)) {
    return std::nullopt;
  }
  return id;
}

bool AtOrAfter(const Positions& a, const Positions& b) {
  if (a.size() != b.size()) return false;
  for (size_t p = 0; p < a.size(); ++p) {
    if (a[p] < b[p]) return false;
  }
  return true;
}

}  // namespace alliance
