// Canonical serialization and hash of a Feedback; see content_hash.h.
#include "services/intake/content_hash.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "analytics/hash.h"

namespace alliance::intake {
namespace {

// Little-endian, whatever the host's byte order; one append instead of eight push_backs.
void AppendU64(std::string* out, uint64_t v) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(bytes, sizeof bytes);
}

void AppendString(std::string* out, std::string_view s) {
  AppendU64(out, s.size());
  out->append(s);
}

void AppendDouble(std::string* out, double v) {
  if (v == 0) v = 0;  // -0.0 and 0.0 are the same answer
  AppendU64(out, std::bit_cast<uint64_t>(v));
}

}  // namespace

std::string CanonicalFeedbackBytes(const alliance::v1::Feedback& feedback) {
  std::string out;
  out.reserve(256 + 16 * feedback.answers_size());
  out.append("feedback-v1");
  AppendString(&out, feedback.tenant_id());
  AppendString(&out, feedback.idempotency_id());
  AppendString(&out, feedback.therapist_id());
  AppendString(&out, feedback.client_id());
  AppendString(&out, feedback.session_id());
  AppendU64(&out, static_cast<uint64_t>(static_cast<int64_t>(feedback.session_number())));
  out.push_back(feedback.has_session_time() ? 1 : 0);
  AppendU64(&out, static_cast<uint64_t>(feedback.session_time().seconds()));
  AppendU64(&out, static_cast<uint64_t>(static_cast<int64_t>(feedback.session_time().nanos())));
  AppendU64(&out, static_cast<uint64_t>(static_cast<int64_t>(feedback.rater())));
  AppendString(&out, feedback.instrument_id());
  std::vector<std::pair<int32_t, double>> answers;
  answers.reserve(feedback.answers_size());
  for (const auto& a : feedback.answers()) answers.emplace_back(a.item(), a.value());
  std::sort(answers.begin(), answers.end(), [](const auto& a, const auto& b) {
    return a.first != b.first
               ? a.first < b.first
               : std::bit_cast<uint64_t>(a.second) < std::bit_cast<uint64_t>(b.second);
  });
  AppendU64(&out, answers.size());
  for (const auto& [item, value] : answers) {
    AppendU64(&out, static_cast<uint64_t>(static_cast<int64_t>(item)));
    AppendDouble(&out, value);
  }
  return out;
}

std::string ContentHash(const alliance::v1::Feedback& feedback) {
  std::string bytes = CanonicalFeedbackBytes(feedback);
  return analytics::Hash128Hex({bytes});
}

}  // namespace alliance::intake
