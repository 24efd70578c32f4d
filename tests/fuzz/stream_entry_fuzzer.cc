// libFuzzer target: the stream entry decoders. The input is a Redis reply in RESP, as a
// hostile or corrupted Redis could send it; hiredis parses it, then the worker's feedback entry
// decoder and the insights alert entry decoder must reject or accept it without crashing.
#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>

#include "analytics/registry.h"
#include "store/alert_entry.h"
#include "store/feedback_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, reinterpret_cast<const char*>(data), size);
  void* raw = nullptr;
  // One input may hold several replies; a bounded number is plenty.
  for (int i = 0; i < 8 && redisReaderGetReply(reader, &raw) == REDIS_OK && raw != nullptr; ++i) {
    auto* reply = static_cast<redisReply*>(raw);
    auto entries = alliance::ParseEntries(*reply);
    if (entries.ok()) {
      for (const auto& entry : *entries) {
        (void)alliance::DecodeFeedback(entry, alliance::analytics::InstrumentRegistry::BuiltIn());
      }
    }
    if (reply->type == REDIS_REPLY_ARRAY) {
      for (size_t e = 0; e < reply->elements; ++e) {
        auto alert = alliance::ParseAlertEntry(0, *reply->element[e], false);
        if (alert) alliance::ParseAlertBody(alert.get());
      }
    }
    freeReplyObject(reply);
    raw = nullptr;
  }
  redisReaderFree(reader);
  return 0;
}
