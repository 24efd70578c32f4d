// Field-by-field checks of a Feedback message; see validation.h.
#include "services/intake/validation.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/unknown_field_set.h>

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "analytics/scoring.h"
#include "common/strings.h"

namespace alliance::intake {
namespace {

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

absl::Status CheckId(std::string_view field, std::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(Absl(field), ": is required"));
  if (value.size() > kMaxIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(Absl(field), ": is ", value.size(),
                                                   " characters long; at most ", kMaxIdLength,
                                                   " are allowed"));
  }
  if (!IsValidId(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Absl(field), ": must be 1..128 characters of [A-Za-z0-9._-]"));
  }
  return absl::OkStatus();
}

std::string_view RaterName(alliance::v1::Rater rater) {
  switch (rater) {
    case alliance::v1::RATER_CLIENT:
      return "RATER_CLIENT";
    case alliance::v1::RATER_THERAPIST:
      return "RATER_THERAPIST";
    case alliance::v1::RATER_OBSERVER:
      return "RATER_OBSERVER";
    default:
      return "RATER_UNSPECIFIED";
  }
}

absl::Status CheckSessionTime(const alliance::v1::Feedback& feedback,
                              const ValidationPolicy& policy, absl::Time now) {
  if (!feedback.has_session_time()) {
    return absl::InvalidArgumentError("session_time: is required");
  }
  const auto& ts = feedback.session_time();
  if (ts.nanos() < 0 || ts.nanos() > 999'999'999) {
    return absl::InvalidArgumentError("session_time.nanos: must be 0..999999999");
  }
  if (ts.seconds() <= 0) {
    return absl::InvalidArgumentError("session_time: must be after 1970-01-01T00:00:00Z");
  }
  absl::Time session = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  if (session > now + policy.max_clock_skew) {
    return absl::InvalidArgumentError(absl::StrCat(
        "session_time: lies ", absl::FormatDuration(session - now), " in the future; at most ",
        absl::FormatDuration(policy.max_clock_skew), " of clock skew is allowed"));
  }
  return absl::OkStatus();
}

// Fields a newer client sent that this server does not know would be stored in the stream
// unread and unhashed (any size, up to the message limit): refused instead, naming the number.
absl::Status CheckKnownFields(const google::protobuf::Message& message, std::string_view where) {
  const google::protobuf::UnknownFieldSet& unknown =
      message.GetReflection()->GetUnknownFields(message);
  if (unknown.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      Absl(where), "field number ", unknown.field(0).number(), " is not a field of ",
      message.GetDescriptor()->full_name(), " known to this server; nothing else is stored"));
}

absl::Status CheckOnlyKnownFields(const alliance::v1::Feedback& feedback) {
  if (absl::Status s = CheckKnownFields(feedback, ""); !s.ok()) return s;
  if (feedback.has_session_time()) {
    if (absl::Status s = CheckKnownFields(feedback.session_time(), "session_time: "); !s.ok()) {
      return s;
    }
  }
  for (int i = 0; i < feedback.answers_size(); ++i) {
    absl::Status s = CheckKnownFields(feedback.answers(i), absl::StrCat("answers[", i, "]: "));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

absl::Status ValidateFeedback(const alliance::v1::Feedback& feedback,
                              const analytics::InstrumentRegistry& registry,
                              const ValidationPolicy& policy, absl::Time now) {
  if (absl::Status s = CheckOnlyKnownFields(feedback); !s.ok()) return s;
  for (auto [field, value] : {
           std::pair<std::string_view, std::string_view>{"tenant_id", feedback.tenant_id()},
           {"idempotency_id", feedback.idempotency_id()},
           {"therapist_id", feedback.therapist_id()},
           {"client_id", feedback.client_id()},
           {"session_id", feedback.session_id()},
       }) {
    if (absl::Status s = CheckId(field, value); !s.ok()) return s;
  }
  if (feedback.session_number() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("session_number: must be at least 1, got ", feedback.session_number()));
  }
  if (feedback.session_number() > kMaxSessionNumber) {
    return absl::InvalidArgumentError(absl::StrCat("session_number: must be at most ",
                                                   kMaxSessionNumber, ", got ",
                                                   feedback.session_number()));
  }
  if (absl::Status s = CheckSessionTime(feedback, policy, now); !s.ok()) return s;
  if (feedback.rater() == alliance::v1::RATER_UNSPECIFIED) {
    return absl::InvalidArgumentError("rater: is required (RATER_UNSPECIFIED is not a rater)");
  }
  if (!alliance::v1::Rater_IsValid(feedback.rater())) {
    return absl::InvalidArgumentError(
        absl::StrCat("rater: unknown value ", static_cast<int>(feedback.rater())));
  }
  if (feedback.instrument_id().empty()) {
    return absl::InvalidArgumentError("instrument_id: is required");
  }
  const analytics::Instrument* instrument = registry.Find(feedback.instrument_id());
  if (instrument == nullptr) {
    // The id is echoed only when it is a well-formed identifier (never arbitrary text).
    return absl::InvalidArgumentError(
        IsValidId(feedback.instrument_id())
            ? absl::StrCat("instrument_id: unknown instrument '", feedback.instrument_id(), "'")
            : std::string("instrument_id: unknown instrument"));
  }
  auto rater = static_cast<analytics::Rater>(feedback.rater());
  if (!instrument->AllowsRater(rater)) {
    return absl::InvalidArgumentError(absl::StrCat("rater: ", Absl(RaterName(feedback.rater())),
                                                   " may not fill in instrument '", instrument->id,
                                                   "'"));
  }
  std::vector<analytics::Answer> answers;
  answers.reserve(feedback.answers_size());
  for (int i = 0; i < feedback.answers_size(); ++i) {
    const auto& answer = feedback.answers(i);
    if (!std::isfinite(answer.value())) {
      return absl::InvalidArgumentError(
          absl::StrCat("answers[", i, "].value: must be a finite number"));
    }
    answers.push_back({answer.item(), answer.value()});
  }
  return analytics::ValidateAnswers(*instrument, answers);
}

absl::Status PrefixFieldPath(const absl::Status& status, std::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(Absl(prefix), status.message()));
}

}  // namespace alliance::intake
