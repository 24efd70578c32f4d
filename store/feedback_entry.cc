// The feedback entry codec: hand-written protobuf encoding of FeedbackEntry, and decoding with
// validation; see feedback_entry.h. Field numbers and
// order follow proto/alliance/internal/v1/records.proto (feedback = 1, accepted_id = 2,
// accepted_at = 3), as protobuf's own serializer writes them.
#include "store/feedback_entry.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "alliance/internal/v1/records.pb.h"
#include "analytics/scoring.h"
#include "common/strings.h"
#include "store/keys.h"

namespace alliance {
namespace {

// Wire-format tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
constexpr char kFeedbackTag = (1 << 3) | 2;
constexpr char kAcceptedIdTag = (2 << 3) | 2;
constexpr char kAcceptedAtTag = (3 << 3) | 2;
constexpr char kSecondsTag = (1 << 3) | 0;
constexpr char kNanosTag = (2 << 3) | 0;

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

}  // namespace

void EncodeFeedbackEntry(const alliance::v1::Feedback& feedback, std::string_view accepted_id,
                         absl::Time accepted_at, std::string* out) {
  const size_t feedback_size = feedback.ByteSizeLong();  // also caches sizes for the write below
  const int64_t nanos_since_epoch = absl::ToUnixNanos(accepted_at);
  const int64_t seconds = nanos_since_epoch / 1'000'000'000;
  const int32_t nanos = static_cast<int32_t>(nanos_since_epoch % 1'000'000'000);
  // google.protobuf.Timestamp: zero fields are not written (proto3); negative ones are 10-byte
  // varints of their two's complement.
  size_t timestamp_size = 0;
  if (seconds != 0) timestamp_size += 1 + VarintSize(static_cast<uint64_t>(seconds));
  if (nanos != 0) timestamp_size += 1 + VarintSize(static_cast<uint64_t>(int64_t{nanos}));

  out->clear();
  out->reserve(feedback_size + accepted_id.size() + timestamp_size + 16);
  out->push_back(kFeedbackTag);
  AppendVarint(out, feedback_size);
  const size_t at = out->size();
  out->resize(at + feedback_size);
  feedback.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out->data() + at));
  if (!accepted_id.empty()) {
    out->push_back(kAcceptedIdTag);
    AppendVarint(out, accepted_id.size());
    out->append(accepted_id);
  }
  // A set message field is written even when empty.
  out->push_back(kAcceptedAtTag);
  AppendVarint(out, timestamp_size);
  if (seconds != 0) {
    out->push_back(kSecondsTag);
    AppendVarint(out, static_cast<uint64_t>(seconds));
  }
  if (nanos != 0) {
    out->push_back(kNanosTag);
    AppendVarint(out, static_cast<uint64_t>(int64_t{nanos}));
  }
}

absl::StatusOr<DecodedFeedback> DecodeFeedback(const StreamEntry& entry,
                                               const analytics::InstrumentRegistry& registry) {
  const std::string* v = entry.Field("v");
  if (v == nullptr || *v != kEntryVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported entry version '", v ? *v : "", "'"));
  }
  const std::string* tenant = entry.Field("tenant");
  const std::string* accepted_id = entry.Field("accepted_id");
  const std::string* payload = entry.Field("entry");
  if (tenant == nullptr || accepted_id == nullptr || payload == nullptr) {
    return absl::InvalidArgumentError("missing field tenant, accepted_id or entry");
  }
  // One message per thread, parsed into again and again: parsing reuses the memory of its
  // strings and repeated fields instead of allocating them for every entry.
  thread_local internal::v1::FeedbackEntry fe;
  if (!fe.ParseFromString(*payload)) {
    return absl::InvalidArgumentError("entry is not a FeedbackEntry");
  }
  const alliance::v1::Feedback& f = fe.feedback();
  if (f.tenant_id() != *tenant || fe.accepted_id() != *accepted_id || accepted_id->empty()) {
    return absl::InvalidArgumentError("tenant or accepted_id disagree with the entry");
  }
  if (f.therapist_id().empty() || f.client_id().empty() || f.session_number() < 1) {
    return absl::InvalidArgumentError("missing therapist, client or session number");
  }
  const analytics::Instrument* instrument = registry.Find(f.instrument_id());
  if (instrument == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown instrument '", f.instrument_id(), "'"));
  }
  auto rater = static_cast<analytics::Rater>(f.rater());
  if (!instrument->AllowsRater(rater)) {
    return absl::InvalidArgumentError("rater not allowed for the instrument");
  }
  std::vector<analytics::Answer> answers;
  answers.reserve(f.answers_size());
  for (const alliance::v1::ItemAnswer& a : f.answers()) answers.push_back({a.item(), a.value()});
  if (absl::Status s = analytics::ValidateAnswers(*instrument, answers); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("answers: ", s.message()));
  }
  DecodedFeedback out;
  out.stream_id = entry.id;
  out.dyad = {f.tenant_id(), f.therapist_id(), f.client_id()};
  out.rating.rating_id = fe.accepted_id();
  out.rating.session_number = f.session_number();
  out.rating.session_time_ms =
      f.session_time().seconds() * 1000 + f.session_time().nanos() / 1000000;
  out.rating.rater = rater;
  out.rating.instrument_id = f.instrument_id();
  out.rating.answers = analytics::AnswersByItem(*instrument, answers);
  out.session_id = f.session_id();
  out.idempotency_id = f.idempotency_id();
  return out;
}

}  // namespace alliance
