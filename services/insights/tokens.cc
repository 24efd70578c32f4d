// Encoding of cursors and page tokens (see tokens.h for the formats).
#include "services/insights/tokens.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace alliance::insights {
namespace {

constexpr std::string_view kWatchPrefix = "w1:";
constexpr std::string_view kDyadPrefix = "d1:";
constexpr std::string_view kTherapistPrefix = "s1:";
constexpr std::string_view kAlertPrefix = "a1:";
constexpr std::string_view kExhausted = "x";

std::string Wrap(std::string_view text) {
  std::string out;
  absl::WebSafeBase64Escape(Absl(text), &out);
  return out;
}

absl::StatusOr<std::string> Unwrap(std::string_view token, std::string_view prefix,
                                   std::string_view what) {
  std::string text;
  if (token.size() > 64 * 1024 || !absl::WebSafeBase64Unescape(Absl(token), &text) ||
      !std::string_view(text).starts_with(prefix)) {
    return absl::InvalidArgumentError(absl::StrCat(Absl(what), ": malformed"));
  }
  return text.substr(prefix.size());
}

}  // namespace

std::string EncodeWatchCursor(const Positions& positions) {
  std::vector<std::string> ids;
  ids.reserve(positions.size());
  for (const StreamId& id : positions) ids.push_back(id.ToString());
  return Wrap(absl::StrCat(Absl(kWatchPrefix), absl::StrJoin(ids, ",")));
}

absl::StatusOr<Positions> DecodeWatchCursor(std::string_view cursor, int partitions) {
  absl::StatusOr<std::string> text = Unwrap(cursor, kWatchPrefix, "cursor");
  if (!text.ok()) return text.status();
  std::vector<std::string> parts = absl::StrSplit(*text, ',');
  if (static_cast<int>(parts.size()) != partitions) {
    return absl::InvalidArgumentError(absl::StrCat("cursor: made for ", parts.size(),
                                                   " partitions, this service has ", partitions));
  }
  Positions positions;
  for (const std::string& part : parts) {
    std::optional<StreamId> id = StreamId::Parse(part);
    if (!id) return absl::InvalidArgumentError("cursor: malformed stream id");
    // The very last id: nothing can follow it and Redis refuses a range starting after it.
    // (Positions ahead of Redis's clock are refused by the watch itself, which knows it.)
    if (id->ms == UINT64_MAX && id->seq == UINT64_MAX) {
      return absl::InvalidArgumentError("cursor: malformed stream id");
    }
    positions.push_back(*id);
  }
  return positions;
}

std::string EncodeDyadPageToken(std::string_view after_member) {
  return Wrap(absl::StrCat(Absl(kDyadPrefix), Absl(after_member)));
}

absl::StatusOr<std::string> DecodeDyadPageToken(std::string_view token) {
  absl::StatusOr<std::string> member = Unwrap(token, kDyadPrefix, "page_token");
  if (!member.ok()) return member.status();
  if (member->empty() || member->find(':') == std::string::npos) {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  return member;
}

std::string EncodeTherapistPageToken(std::string_view after_therapist) {
  return Wrap(absl::StrCat(Absl(kTherapistPrefix), Absl(after_therapist)));
}

absl::StatusOr<std::string> DecodeTherapistPageToken(std::string_view token) {
  absl::StatusOr<std::string> therapist = Unwrap(token, kTherapistPrefix, "page_token");
  if (!therapist.ok()) return therapist.status();
  if (therapist->empty()) return absl::InvalidArgumentError("page_token: malformed");
  return therapist;
}

std::string EncodeAlertPageToken(const AlertWalk& walk) {
  std::vector<std::string> parts;
  parts.reserve(walk.size());
  for (const std::optional<StreamId>& id : walk) {
    parts.push_back(id ? id->ToString() : std::string(kExhausted));
  }
  return Wrap(absl::StrCat(Absl(kAlertPrefix), absl::StrJoin(parts, ",")));
}

absl::StatusOr<AlertWalk> DecodeAlertPageToken(std::string_view token, int partitions) {
  absl::StatusOr<std::string> text = Unwrap(token, kAlertPrefix, "page_token");
  if (!text.ok()) return text.status();
  std::vector<std::string> parts = absl::StrSplit(*text, ',');
  if (static_cast<int>(parts.size()) != partitions) {
    return absl::InvalidArgumentError("page_token: made for a different number of partitions");
  }
  AlertWalk walk;
  for (const std::string& part : parts) {
    if (part == kExhausted) {
      walk.push_back(std::nullopt);
      continue;
    }
    std::optional<StreamId> id = StreamId::Parse(part);
    if (!id) return absl::InvalidArgumentError("page_token: malformed stream id");
    // "Strictly before 0-0" is no position (no entry id is below 0-1; Redis refuses the
    // range): a token of ours never holds it.
    if (*id == StreamId{}) return absl::InvalidArgumentError("page_token: malformed stream id");
    walk.push_back(*id);
  }
  return walk;
}

}  // namespace alliance::insights
