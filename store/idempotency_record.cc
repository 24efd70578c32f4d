// Idempotency record codec; see idempotency_record.h.
#include "store/idempotency_record.h"

#include "absl/strings/str_cat.h"

namespace alliance {

std::string IdempotencyRecord::Encode() const {
  return absl::StrCat(content_hash, "|", stream_id, "|", accepted_id);
}

std::optional<IdempotencyRecord> IdempotencyRecord::Parse(std::string_view value) {
  size_t first = value.find('|');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = value.find('|', first + 1);
  if (second == std::string_view::npos || value.find('|', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  IdempotencyRecord record{std::string(value.substr(0, first)),
                           std::string(value.substr(first + 1, second - first - 1)),
                           std::string(value.substr(second + 1))};
  if (record.content_hash.empty() || record.stream_id.empty() || record.accepted_id.empty()) {
    return std::nullopt;
  }
  return record;
}

}  // namespace alliance
