// Dead-letter entry codec; see dead_letter.h.
#include "store/dead_letter.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "store/keys.h"

namespace alliance {

absl::StatusOr<DeadLetter> ParseDeadLetter(const StreamEntry& entry) {
  const std::string* v = entry.Field("v");
  if (v == nullptr || *v != kEntryVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("dead letter ", entry.id, ": unsupported entry version"));
  }
  DeadLetter out;
  out.id = entry.id;
  for (auto [name, target] :
       {std::pair{"source_id", &out.source_id}, std::pair{"reason", &out.reason},
        std::pair{"tenant", &out.tenant}, std::pair{"accepted_id", &out.accepted_id},
        std::pair{"entry", &out.entry}}) {
    const std::string* value = entry.Field(name);
    if (value == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("dead letter ", entry.id, ": missing field ", name));
    }
    *target = *value;
  }
  const std::string* attempts = entry.Field("attempts");
  if (attempts == nullptr || !absl::SimpleAtoi(Absl(*attempts), &out.attempts) ||
      out.attempts < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("dead letter ", entry.id, ": attempts is not a positive count"));
  }
  return out;
}

}  // namespace alliance
