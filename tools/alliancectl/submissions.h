// Reading feedback submissions for `alliancectl submit`: from flags, a CSV file (RFC 4180,
// tools/alliancectl/csv.h) or a JSON lines file. Errors name the line and the column.
#ifndef ALLIANCE_TOOLS_ALLIANCECTL_SUBMISSIONS_H_
#define ALLIANCE_TOOLS_ALLIANCECTL_SUBMISSIONS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "alliance/v1/intake.pb.h"

namespace alliance::ctl {

// The CSV columns, in the order a file without a header row gives them:
// tenant_id,idempotency_id,therapist_id,client_id,session_id,session_number,
// session_time(RFC 3339),rater(client|therapist|observer),instrument_id,answers(space
// separated, in item order). An empty tenant_id takes `default_tenant`.
inline constexpr std::string_view kCsvColumns[] = {
    "tenant_id",      "idempotency_id", "therapist_id", "client_id",     "session_id",
    "session_number", "session_time",   "rater",        "instrument_id", "answers"};

// One CSV record in the column order above (RFC 4180: "..." quotes a field holding commas,
// quotes are doubled). Errors name the column.
absl::StatusOr<alliance::v1::Feedback> ParseCsvLine(std::string_view line,
                                                    std::string_view default_tenant);

// One JSON line: alliance.v1.Feedback as proto3 JSON, where "answers" may also be a plain
// array of numbers in item order, and "rater" may be "client", "therapist" or "observer".
absl::StatusOr<alliance::v1::Feedback> ParseJsonLine(std::string_view line,
                                                     std::string_view default_tenant);

// Every submission of a file (.csv, or JSON lines otherwise). Blank lines and lines starting
// with '#' are skipped. A CSV file whose first record starts with a column name (e.g.
// `tenant_id`) has a header row naming its columns (any order; tenant_id may be left out);
// without one the columns come in the order of kCsvColumns. Errors: "<path>: line L, column C
// (<name>): <what>".
absl::StatusOr<std::vector<alliance::v1::Feedback>> ReadSubmissionFile(
    const std::string& path, std::string_view default_tenant);

// "client" | "therapist" | "observer".
absl::StatusOr<alliance::v1::Rater> ParseRater(std::string_view text);

// Space-separated answers in item order -> ItemAnswers numbered from 1.
absl::Status ParseAnswers(std::string_view text, alliance::v1::Feedback* feedback);

}  // namespace alliance::ctl

#endif  // ALLIANCE_TOOLS_ALLIANCECTL_SUBMISSIONS_H_
