// SnoozeAlert request checks; see snooze_request.h.
#include "services/insights/snooze_request.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace alliance::insights {
namespace {

// The next code point of `text` at `*i` (advancing it), or -1 for a byte sequence that is not
// UTF-8 (overlong forms, surrogates and values past U+10FFFF included).
int32_t NextCodePoint(std::string_view text, size_t* i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(*i);
  int length = 0;
  int32_t cp = 0;
  if (lead < 0x80) {
    ++*i;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    cp = lead & 0x07;
  } else {
    return -1;
  }
  if (*i + length > text.size()) return -1;
  for (int k = 1; k < length; ++k) {
    if ((byte(*i + k) & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (byte(*i + k) & 0x3F);
  }
  static constexpr int32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kSmallest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  *i += length;
  return cp;
}

// Characters that would let free text break a line or reorder what a reader sees.
bool IsControl(int32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

bool IsBlank(int32_t cp) { return cp == ' ' || cp == 0xA0 || cp == 0x3000; }

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// The bounds of a snooze of `length` (from now), for the field `field`.
absl::Status CheckLength(std::string_view field, absl::Duration length, absl::Duration max) {
  if (length < kMinSnooze) {
    return absl::InvalidArgumentError(absl::StrCat(Absl(field), ": the snooze must last at least ",
                                                   absl::FormatDuration(kMinSnooze),
                                                   field == "until" ? " from now" : ""));
  }
  if (length > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(Absl(field), ": the snooze may last at most ", absl::FormatDuration(max),
                     field == "until" ? " from now" : "", " (--max_snooze)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckSnoozeReason(std::string_view reason) {
  if (reason.empty()) return absl::InvalidArgumentError("reason: required");
  int chars = 0;
  bool blank = true;
  for (size_t i = 0; i < reason.size();) {
    const int32_t cp = NextCodePoint(reason, &i);
    if (cp < 0) return absl::InvalidArgumentError("reason: not valid UTF-8");
    if (IsControl(cp)) {
      return absl::InvalidArgumentError("reason: control characters are not allowed");
    }
    if (!IsBlank(cp)) blank = false;
    if (++chars > kMaxSnoozeReasonChars) {
      return absl::InvalidArgumentError(
          absl::StrCat("reason: at most ", kMaxSnoozeReasonChars, " characters"));
    }
  }
  if (blank) return absl::InvalidArgumentError("reason: required (it is blank)");
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> SnoozeEnd(const alliance::v1::SnoozeAlertRequest& request,
                                     absl::Time now, absl::Duration max) {
  switch (request.limit_case()) {
    case alliance::v1::SnoozeAlertRequest::kUntil: {
      const google::protobuf::Timestamp& until = request.until();
      // RFC 3339's range, as google.protobuf.Timestamp defines it.
      if (until.seconds() < -62135596800 || until.seconds() > 253402300799 || until.nanos() < 0 ||
          until.nanos() > 999999999) {
        return absl::InvalidArgumentError("until: not a valid timestamp");
      }
      const absl::Time end = ToTime(until);
      if (absl::Status s = CheckLength("until", end - now, max); !s.ok()) return s;
      return end;
    }
    case alliance::v1::SnoozeAlertRequest::kDuration: {
      const google::protobuf::Duration& duration = request.duration();
      if (duration.nanos() < -999999999 || duration.nanos() > 999999999 ||
          (duration.seconds() > 0 && duration.nanos() < 0) ||
          (duration.seconds() < 0 && duration.nanos() > 0)) {
        return absl::InvalidArgumentError("duration: not a valid duration");
      }
      const absl::Duration length =
          absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
      if (absl::Status s = CheckLength("duration", length, max); !s.ok()) return s;
      return now + length;
    }
    case alliance::v1::SnoozeAlertRequest::LIMIT_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("until: required, or duration: how long the snooze lasts");
}

}  // namespace alliance::insights
