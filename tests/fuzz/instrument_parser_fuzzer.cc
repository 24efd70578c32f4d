// libFuzzer target: instrument definitions and rule files from operators must never crash the
// parser, whatever bytes they hold; a definition that parses must also score consistently.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "analytics/instrument.h"
#include "analytics/rules.h"
#include "analytics/scoring.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)alliance::analytics::ParseRuleConfigJson(text, "fuzz.json");
  auto instrument = alliance::analytics::ParseInstrumentJson(text, "fuzz.json");
  if (!instrument.ok() || instrument->item_count > 1000) return 0;
  // A valid definition must score its own minimum answers inside its range.
  std::vector<double> answers(instrument->item_count, instrument->item_min);
  auto score = alliance::analytics::ScoreAnswers(*instrument, answers);
  if (score.ok() &&
      (!std::isfinite(score->total) || score->pomp < -1e-9 || score->pomp > 100 + 1e-9)) {
    __builtin_trap();
  }
  return 0;
}
