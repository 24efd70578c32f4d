// RFC 4180 parsing: one pass over the text, tracking the physical line and column so every
// error points at the place in the file a person has to fix.
#include "tools/alliancectl/csv.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace alliance::ctl {
namespace {

absl::Status ErrorAt(CsvPosition at, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("line ", at.line, ", column ", at.column, ": ", Absl(what)));
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsLineEnd(char c) { return c == '\n' || c == '\r'; }

// A printable rendering of one character for an error message.
std::string Shown(char c) {
  if (c == '"') return "a quote";
  if (absl::ascii_isprint(static_cast<unsigned char>(c)))
    return absl::StrCat("'", std::string(1, c), "'");
  return absl::StrCat("byte 0x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
}

}  // namespace

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(std::string_view text, const CsvOptions& options) {
  std::vector<CsvRecord> records;
  const size_t n = text.size();
  size_t i = 0;
  int line = 1;
  size_t line_start = 0;
  auto here = [&](size_t at) { return CsvPosition{line, static_cast<int>(at - line_start) + 1}; };
  // Consumes one line end (CRLF, LF or a lone CR) at `i`.
  auto end_line = [&] {
    if (i < n && text[i] == '\r') ++i;
    if (i < n && text[i] == '\n') ++i;
    ++line;
    line_start = i;
  };
  while (i < n) {
    if (options.comment != 0 && text[i] == options.comment) {
      while (i < n && !IsLineEnd(text[i])) ++i;
      end_line();
      continue;
    }
    CsvRecord record;
    record.line = line;
    bool any_quoted = false;
    while (true) {
      size_t first = i;
      while (first < n && IsBlank(text[first])) ++first;
      std::string value;
      CsvPosition position = here(i);
      if (first < n && text[first] == '"') {
        any_quoted = true;
        position = here(first);
        i = first + 1;
        bool closed = false;
        while (i < n) {
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              value.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          value.push_back(c);
          ++i;
          // A line break inside quotes belongs to the field; the next line starts after it.
          if (c == '\n' || (c == '\r' && (i >= n || text[i] != '\n'))) {
            ++line;
            line_start = i;
          }
        }
        if (!closed) {
          return ErrorAt(position,
                         "unterminated quoted field: no closing quote before the end "
                         "of the file");
        }
        while (i < n && IsBlank(text[i])) ++i;
        if (i < n && text[i] != ',' && !IsLineEnd(text[i])) {
          return ErrorAt(here(i), absl::StrCat("expected a comma or the end of the line after a "
                                               "closing quote, found ",
                                               Shown(text[i])));
        }
      } else {
        while (i < n && text[i] != ',' && !IsLineEnd(text[i])) {
          if (text[i] == '"') {
            return ErrorAt(here(i),
                           "a quote inside an unquoted field (quote the whole field "
                           "and double the quote: \"a \"\"b\"\"\")");
          }
          value.push_back(text[i]);
          ++i;
        }
      }
      record.fields.push_back(std::move(value));
      record.positions.push_back(position);
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      break;
    }
    end_line();
    const bool blank = !any_quoted && record.fields.size() == 1 &&
                       absl::StripAsciiWhitespace(record.fields[0]).empty();
    if (blank && options.skip_blank_lines) continue;
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace alliance::ctl
