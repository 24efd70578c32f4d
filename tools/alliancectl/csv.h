// A small RFC 4180 CSV reader for `alliancectl submit --file=x.csv`: quoted fields with embedded
// commas, doubled quotes and line breaks, CRLF or LF line ends. Errors name the line and the
// column where the record went wrong.
#ifndef ALLIANCE_TOOLS_ALLIANCECTL_CSV_H_
#define ALLIANCE_TOOLS_ALLIANCECTL_CSV_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace alliance::ctl {

// Where a field starts: 1-based physical line and byte column (of the opening quote when
// the field is quoted).
struct CsvPosition {
  int line = 0;
  int column = 0;
};

// One record: its fields and where each starts. `line` is the physical line of the record's
// first character (a quoted field may span lines, so the next record can start further on).
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
  std::vector<CsvPosition> positions;
};

struct CsvOptions {
  // Lines whose first character is this (outside a quoted field) are skipped; 0: none.
  char comment = 0;
  // Records of one empty field (blank lines) are skipped rather than returned.
  bool skip_blank_lines = true;
};

// Parses a whole document. Fields are returned unquoted ("a ""b""" -> a "b"). Spaces or tabs
// before an opening or after a closing quote are ignored (a common hand-written form); inside
// an unquoted field they are kept. Errors (INVALID_ARGUMENT, "line L, column C: ..."):
// an unterminated quoted field (blamed on its opening quote), a character other than a comma
// or line end after a closing quote, a quote inside an unquoted field.
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(std::string_view text, const CsvOptions& options);

}  // namespace alliance::ctl

#endif  // ALLIANCE_TOOLS_ALLIANCECTL_CSV_H_
