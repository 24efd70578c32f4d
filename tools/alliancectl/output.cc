// Table and JSON printing for alliancectl.
#include "tools/alliancectl/output.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace alliance::ctl {

void PrintJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  std::printf("%s\n", out.c_str());
  std::fflush(stdout);
}

void Table::Print(bool with_header) const {
  std::vector<size_t> widths(header_.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header_);
  for (const auto& row : rows_) measure(row);
  auto print = [&widths](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < widths.size(); ++i) {
      std::string cell = i < row.size() ? row[i] : "";
      line += cell;
      if (i + 1 < widths.size()) line += std::string(widths[i] - cell.size() + 2, ' ');
    }
    std::printf("%s\n", std::string(absl::StripTrailingAsciiWhitespace(line)).c_str());
  };
  if (with_header) print(header_);
  for (const auto& row : rows_) print(row);
  std::fflush(stdout);
}

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return google::protobuf::util::TimeUtil::ToString(ts);
}

std::string Fixed(double value, int decimals) { return absl::StrFormat("%.*f", decimals, value); }

namespace {
std::string Lower(std::string name, std::string_view prefix) {
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  return absl::AsciiStrToLower(name);
}
}  // namespace

std::string RaterName(alliance::v1::Rater r) {
  return Lower(alliance::v1::Rater_Name(r), "RATER_");
}
std::string SeverityName(alliance::v1::Severity s) {
  return Lower(alliance::v1::Severity_Name(s), "SEVERITY_");
}
std::string KindName(alliance::v1::AlertKind k) {
  return Lower(alliance::v1::AlertKind_Name(k), "ALERT_KIND_");
}
std::string StatusName(alliance::v1::AlertStatus s) {
  return Lower(alliance::v1::AlertStatus_Name(s), "ALERT_STATUS_");
}
std::string TrendName(alliance::v1::Trend t) {
  return Lower(alliance::v1::Trend_Name(t), "TREND_");
}

std::string CodeName(int code) {
  if (code < 0 || code > 16) return absl::StrCat("code ", code);
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::string WithThousands(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return value < 0 ? "-" + out : out;
}

std::string SeriesRisk(const alliance::v1::SeriesPicture& s) {
  std::vector<std::string> reasons;
  if (s.has_open_rupture()) reasons.push_back("open rupture");
  if (s.below_cutoff()) reasons.push_back("below cutoff");
  if (reasons.empty()) return "no";
  return absl::StrCat("yes (", absl::StrJoin(reasons, ", "), ")");
}

std::string DyadRisk(const alliance::v1::Dyad& d) {
  std::vector<std::string> series;
  for (const alliance::v1::SeriesPicture& s : d.series()) {
    if (s.has_open_rupture() || s.below_cutoff()) {
      series.push_back(absl::StrCat(RaterName(s.rater()), " ", s.instrument_id()));
    }
  }
  if (!series.empty()) return absl::StrJoin(series, ", ");
  return d.at_risk() ? "yes" : "no";
}

Table AlertTable() {
  return Table({"ALERT", "THERAPIST", "CLIENT", "SESSION", "RATER", "INSTRUMENT", "KIND",
                "SEVERITY", "STATUS", "FOCUS"});
}

std::string AlertStatusCell(const alliance::v1::Alert& a) {
  // One word, so that a reader splitting the row on blanks keeps its columns.
  if (a.status() != alliance::v1::ALERT_STATUS_SNOOZED) return StatusName(a.status());
  return absl::StrCat("snoozed-until-",
                      google::protobuf::util::TimeUtil::ToString(a.snoozed_until()));
}

void AddAlertRow(Table& table, const alliance::v1::Alert& a) {
  // "-" for an empty cell (a dyad-level alert has no rater or instrument, not every alert a
  // focus), so every row has as many cells as the header for a reader splitting on runs of blanks.
  auto cell = [](const std::string& text) { return text.empty() ? std::string("-") : text; };
  const std::string rater =
      a.rater() == alliance::v1::RATER_UNSPECIFIED ? std::string() : RaterName(a.rater());
  table.Add({a.alert_id(), a.therapist_id(), a.client_id(), std::to_string(a.session_number()),
             cell(rater), cell(a.instrument_id()), KindName(a.kind()), SeverityName(a.severity()),
             AlertStatusCell(a), cell(a.suggested_focus())});
}

}  // namespace alliance::ctl
