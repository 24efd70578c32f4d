// Output of alliancectl: aligned tables for people, one JSON object per line for scripts.
#ifndef ALLIANCE_TOOLS_ALLIANCECTL_OUTPUT_H_
#define ALLIANCE_TOOLS_ALLIANCECTL_OUTPUT_H_

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "alliance/v1/common.pb.h"

namespace alliance::ctl {

// Prints `message` as one line of proto3 JSON (proto field names) on stdout.
void PrintJson(const google::protobuf::Message& message);

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(bool with_header = true) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

std::string FormatTime(const google::protobuf::Timestamp& ts);
std::string Fixed(double value, int decimals = 1);
std::string RaterName(alliance::v1::Rater rater);
std::string SeverityName(alliance::v1::Severity severity);
std::string KindName(alliance::v1::AlertKind kind);
std::string StatusName(alliance::v1::AlertStatus status);
std::string TrendName(alliance::v1::Trend trend);
// A google.rpc code as its name: 3 -> "INVALID_ARGUMENT"; unknown values stay numeric.
std::string CodeName(int code);
// 1020 -> "1,020".
std::string WithThousands(int64_t value);

// AT_RISK of one rater's series, from its own flags (an open rupture or a latest total below
// the instrument's cutoff, the two conditions that make the dyad at risk): "no", or "yes"
// with the reason, e.g. "yes (below cutoff)".
std::string SeriesRisk(const alliance::v1::SeriesPicture& series);
// AT_RISK of a dyad in the listing: the series at risk, e.g. "client srs, therapist wai-sr-t",
// or "no"; "yes" when the dyad is at risk but carries no series.
std::string DyadRisk(const alliance::v1::Dyad& dyad);

// Table rows for alerts (shared by `alerts`, `watch`, `ack`, `resolve`, `snooze`).
Table AlertTable();
// The STATUS cell: the status's name, "snoozed-until-<RFC 3339>" while snoozed.
std::string AlertStatusCell(const alliance::v1::Alert& alert);
void AddAlertRow(Table& table, const alliance::v1::Alert& alert);

}  // namespace alliance::ctl

#endif  // ALLIANCE_TOOLS_ALLIANCECTL_OUTPUT_H_
