// Hand-written protobuf encoding of FeedbackEntry; see feedback_entry.h. Field numbers and
// order follow proto/alliance/internal/v1/records.proto (feedback = 1, accepted_id = 2,
// accepted_at = 3), as protobuf's own serializer writes them.
#include "services/intake/feedback_entry.h"

#include <cstdint>

namespace alliance::intake {
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

}  // namespace alliance::intake
