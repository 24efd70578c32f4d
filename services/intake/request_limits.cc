// Request size bounds from the validation limits; see request_limits.h.
#include "services/intake/request_limits.h"

#include <google/protobuf/io/coded_stream.h>

#include <cstdint>
#include <limits>
#include <string>

#include "alliance/v1/intake.pb.h"
#include "services/intake/validation.h"

namespace alliance::intake {
namespace {

// Size of a length-delimited field with a one-byte tag holding `bytes` bytes.
size_t EmbeddedSize(size_t bytes) {
  return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(bytes) + bytes;
}

// The largest Feedback that can pass validation with `instrument`: every field set, each at
// its longest encoding.
alliance::v1::Feedback LargestFeedback(const analytics::Instrument& instrument) {
  alliance::v1::Feedback f;
  const std::string id(kMaxIdLength, 'x');
  f.set_tenant_id(id);
  f.set_idempotency_id(id);
  f.set_therapist_id(id);
  f.set_client_id(id);
  f.set_session_id(id);
  f.set_session_number(kMaxSessionNumber);
  f.mutable_session_time()->set_seconds(std::numeric_limits<int64_t>::max());
  f.mutable_session_time()->set_nanos(999'999'999);
  f.set_rater(alliance::v1::RATER_OBSERVER);
  f.set_instrument_id(instrument.id);
  for (int item = 1; item <= instrument.item_count; ++item) {
    auto* answer = f.add_answers();
    answer->set_item(instrument.item_count);  // the largest item number, for its varint
    answer->set_value(1.5);                   // doubles are 8 bytes whatever their value
  }
  return f;
}

}  // namespace

RequestLimits ComputeRequestLimits(const analytics::InstrumentRegistry& registry,
                                   int max_batch_items) {
  RequestLimits limits;
  for (const std::string& id : registry.Ids()) {
    const analytics::Instrument* instrument = registry.Find(id);
    if (instrument == nullptr) continue;
    limits.feedback_bytes =
        std::max(limits.feedback_bytes, LargestFeedback(*instrument).ByteSizeLong());
  }
  limits.submit_request_bytes = EmbeddedSize(limits.feedback_bytes);
  limits.batch_request_bytes =
      static_cast<size_t>(std::max(max_batch_items, 1)) * EmbeddedSize(limits.feedback_bytes);
  return limits;
}

}  // namespace alliance::intake
