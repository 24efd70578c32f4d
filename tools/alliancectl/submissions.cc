// CSV (through the RFC 4180 reader in csv.cc) and JSON lines parsing of feedback submissions.
#include "tools/alliancectl/submissions.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"
#include "tools/alliancectl/csv.h"

namespace alliance::ctl {

absl::StatusOr<alliance::v1::Rater> ParseRater(std::string_view text) {
  std::string lower = absl::AsciiStrToLower(Absl(text));
  if (lower == "client") return alliance::v1::RATER_CLIENT;
  if (lower == "therapist") return alliance::v1::RATER_THERAPIST;
  if (lower == "observer") return alliance::v1::RATER_OBSERVER;
  return absl::InvalidArgumentError(
      absl::StrCat("rater: '", Absl(text), "' is not client, therapist or observer"));
}

absl::Status ParseAnswers(std::string_view text, alliance::v1::Feedback* feedback) {
  int item = 0;
  for (absl::string_view part : absl::StrSplit(Absl(text), ' ', absl::SkipEmpty())) {
    double value = 0;
    if (!absl::SimpleAtod(part, &value)) {
      return absl::InvalidArgumentError(absl::StrCat("answers: '", part, "' is not a number"));
    }
    alliance::v1::ItemAnswer* answer = feedback->add_answers();
    answer->set_item(++item);
    answer->set_value(value);
  }
  if (item == 0) return absl::InvalidArgumentError("answers: none given");
  return absl::OkStatus();
}

namespace {

constexpr size_t kColumnCount = std::size(kCsvColumns);

// For each of kCsvColumns, the index of the record field that holds it (-1: absent).
using ColumnMap = std::array<int, kColumnCount>;

ColumnMap FixedOrder() {
  ColumnMap map;
  for (size_t c = 0; c < kColumnCount; ++c) map[c] = static_cast<int>(c);
  return map;
}

std::string ColumnList() {
  std::string out;
  for (std::string_view name : kCsvColumns)
    absl::StrAppend(&out, out.empty() ? "" : ",", Absl(name));
  return out;
}

// The column map of a header row; errors name the offending column.
absl::StatusOr<ColumnMap> HeaderColumns(const CsvRecord& header) {
  ColumnMap map;
  map.fill(-1);
  for (size_t f = 0; f < header.fields.size(); ++f) {
    const std::string name(absl::StripAsciiWhitespace(header.fields[f]));
    const auto* known = std::find(std::begin(kCsvColumns), std::end(kCsvColumns), name);
    const CsvPosition at = header.positions[f];
    if (known == std::end(kCsvColumns)) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", at.line, ", column ", at.column, ": unknown column '", name,
                       "' in the header row (columns: ", ColumnList(), ")"));
    }
    int& slot = map[known - std::begin(kCsvColumns)];
    if (slot != -1) {
      return absl::InvalidArgumentError(absl::StrCat("line ", at.line, ", column ", at.column,
                                                     ": column '", name, "' appears twice"));
    }
    slot = static_cast<int>(f);
  }
  for (size_t c = 1; c < kColumnCount; ++c) {  // tenant_id (0) may be left out
    if (map[c] == -1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", header.line, ": the header row has no column '", Absl(kCsvColumns[c]), "'"));
    }
  }
  return map;
}

// One record -> Feedback, through `columns`. Errors name the line, column and its name.
absl::StatusOr<alliance::v1::Feedback> FeedbackFromRecord(const CsvRecord& record,
                                                          const ColumnMap& columns,
                                                          size_t expected_fields,
                                                          std::string_view default_tenant) {
  if (record.fields.size() != expected_fields) {
    return absl::InvalidArgumentError(absl::StrCat("line ", record.line, ": expected ",
                                                   expected_fields, " fields, found ",
                                                   record.fields.size()));
  }
  auto value = [&](size_t column) -> std::string {
    const int f = columns[column];
    return f < 0 ? "" : std::string(absl::StripAsciiWhitespace(record.fields[f]));
  };
  auto error = [&](size_t column, const absl::Status& status) {
    const CsvPosition at = record.positions[columns[column]];
    return absl::InvalidArgumentError(absl::StrCat("line ", at.line, ", column ", at.column, " (",
                                                   Absl(kCsvColumns[column]),
                                                   "): ", status.message()));
  };
  alliance::v1::Feedback f;
  const std::string tenant = value(0);
  f.set_tenant_id(tenant.empty() ? std::string(default_tenant) : tenant);
  f.set_idempotency_id(value(1));
  f.set_therapist_id(value(2));
  f.set_client_id(value(3));
  f.set_session_id(value(4));
  int session_number = 0;
  if (!absl::SimpleAtoi(value(5), &session_number)) {
    return error(5, absl::InvalidArgumentError(absl::StrCat("'", value(5), "' is not an integer")));
  }
  f.set_session_number(session_number);
  if (!google::protobuf::util::TimeUtil::FromString(value(6), f.mutable_session_time())) {
    return error(6, absl::InvalidArgumentError(absl::StrCat(
                        "'", value(6), "' is not RFC 3339 (e.g. 2024-03-01T10:00:00Z)")));
  }
  absl::StatusOr<alliance::v1::Rater> rater = ParseRater(value(7));
  if (!rater.ok()) return error(7, rater.status());
  f.set_rater(*rater);
  f.set_instrument_id(value(8));
  if (absl::Status s = ParseAnswers(value(9), &f); !s.ok()) return error(9, s);
  return f;
}

// A first record whose first field is a column name is a header row (no tenant, idempotency
// id or other value is spelled like a column name).
bool IsHeader(const CsvRecord& record) {
  if (record.fields.empty()) return false;
  const std::string_view first = Std(absl::StripAsciiWhitespace(record.fields[0]));
  return std::find(std::begin(kCsvColumns), std::end(kCsvColumns), first) != std::end(kCsvColumns);
}

absl::StatusOr<std::vector<alliance::v1::Feedback>> ParseCsvFile(std::string_view text,
                                                                 std::string_view default_tenant) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(text, CsvOptions{.comment = '#'});
  if (!records.ok()) return records.status();
  std::vector<alliance::v1::Feedback> out;
  ColumnMap columns = FixedOrder();
  size_t expected_fields = kColumnCount;
  for (size_t r = 0; r < records->size(); ++r) {
    const CsvRecord& record = (*records)[r];
    if (r == 0 && IsHeader(record)) {
      absl::StatusOr<ColumnMap> header = HeaderColumns(record);
      if (!header.ok()) return header.status();
      columns = *header;
      expected_fields = record.fields.size();
      continue;
    }
    absl::StatusOr<alliance::v1::Feedback> f =
        FeedbackFromRecord(record, columns, expected_fields, default_tenant);
    if (!f.ok()) return f.status();
    out.push_back(*std::move(f));
  }
  return out;
}

}  // namespace

absl::StatusOr<alliance::v1::Feedback> ParseCsvLine(std::string_view line,
                                                    std::string_view default_tenant) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(line, CsvOptions{});
  if (!records.ok()) return records.status();
  if (records->size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("expected one record, found ", records->size()));
  }
  return FeedbackFromRecord(records->front(), FixedOrder(), kColumnCount, default_tenant);
}

absl::StatusOr<alliance::v1::Feedback> ParseJsonLine(std::string_view line,
                                                     std::string_view default_tenant) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not JSON: ", e.what()));
  }
  if (!doc.is_object()) return absl::InvalidArgumentError("not a JSON object");
  // Friendly forms: answers as plain numbers, rater as a short word.
  if (doc.contains("answers") && doc["answers"].is_array()) {
    nlohmann::json items = nlohmann::json::array();
    int item = 0;
    for (const auto& a : doc["answers"]) {
      if (a.is_number()) {
        items.push_back({{"item", ++item}, {"value", a.get<double>()}});
      } else {
        items.push_back(a);
      }
    }
    doc["answers"] = items;
  }
  if (doc.contains("rater") && doc["rater"].is_string()) {
    absl::StatusOr<alliance::v1::Rater> rater = ParseRater(doc["rater"].get<std::string>());
    if (rater.ok()) doc["rater"] = alliance::v1::Rater_Name(*rater);
  }
  alliance::v1::Feedback f;
  auto status = google::protobuf::util::JsonStringToMessage(doc.dump(), &f);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("not a Feedback: ", status.ToString()));
  }
  if (f.tenant_id().empty()) f.set_tenant_id(std::string(default_tenant));
  return f;
}

absl::StatusOr<std::vector<alliance::v1::Feedback>> ReadSubmissionFile(
    const std::string& path, std::string_view default_tenant) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  const bool csv = path.size() >= 4 && path.substr(path.size() - 4) == ".csv";
  if (csv) {
    std::ostringstream text;
    text << in.rdbuf();
    absl::StatusOr<std::vector<alliance::v1::Feedback>> out =
        ParseCsvFile(text.str(), default_tenant);
    if (!out.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", out.status().message()));
    }
    return out;
  }
  std::vector<alliance::v1::Feedback> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string_view text = Std(absl::StripAsciiWhitespace(line));
    if (text.empty() || text[0] == '#') continue;
    absl::StatusOr<alliance::v1::Feedback> f = ParseJsonLine(text, default_tenant);
    if (!f.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": line ", number, ": ", f.status().message()));
    }
    out.push_back(*std::move(f));
  }
  return out;
}

}  // namespace alliance::ctl
