// libFuzzer target: arbitrary answer lists against every built-in instrument. Validation must
// never crash, and whatever it accepts must score to a finite value inside the scale.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "analytics/registry.h"
#include "analytics/scoring.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace alliance::analytics;
  if (size < 1) return 0;
  const InstrumentRegistry& registry = InstrumentRegistry::BuiltIn();
  std::vector<std::string> ids = registry.Ids();
  const Instrument* instrument = registry.Find(ids[data[0] % ids.size()]);
  std::vector<Answer> answers;
  for (size_t at = 1; at + 1 + sizeof(double) <= size && answers.size() < 64;
       at += 1 + sizeof(double)) {
    Answer a;
    a.item = static_cast<int8_t>(data[at]);
    std::memcpy(&a.value, data + at + 1, sizeof(double));
    answers.push_back(a);
  }
  if (!ValidateAnswers(*instrument, answers).ok()) return 0;
  auto score = ScoreAnswers(*instrument, AnswersByItem(*instrument, answers));
  if (!score.ok() || !std::isfinite(score->total) || score->total < instrument->TotalMin() - 1e-9 ||
      score->total > instrument->TotalMax() + 1e-9) {
    __builtin_trap();
  }
  return 0;
}
