// libFuzzer target: the API key file (from a Secret) must never crash the parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto table = alliance::ApiKeyTable::Parse(text, "fuzz.json");
  if (table.ok()) (void)table->Lookup(text);
  return 0;
}
