// JSON data files compiled into the library at build time (see embed_files.cmake): the data
// files stay the source of truth, the binary needs no files at run time.
#ifndef ALLIANCE_ANALYTICS_EMBEDDED_DATA_H_
#define ALLIANCE_ANALYTICS_EMBEDDED_DATA_H_

#include <span>
#include <string_view>

namespace alliance::analytics {

struct EmbeddedFile {
  std::string_view name;  // file name, e.g. "srs.json"
  std::string_view text;  // its content
};

// analytics/instruments/*.json, in file-name order.
std::span<const EmbeddedFile> BuiltInInstrumentFiles();

// analytics/factors.json (exactly one file).
std::span<const EmbeddedFile> BuiltInFactorFiles();

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_EMBEDDED_DATA_H_
