// The RFC 4180 reader of alliancectl (tools/alliancectl/csv.h) and the submission files built
// on it (tools/alliancectl/submissions.h): quoting, line ends, positions and every error.
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/alliancectl/csv.h"
#include "tools/alliancectl/submissions.h"

namespace alliance::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::vector<std::string>> Fields(std::string_view text, CsvOptions options = {}) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(text, options);
  EXPECT_TRUE(records.ok()) << records.status();
  std::vector<std::vector<std::string>> out;
  if (records.ok()) {
    for (const CsvRecord& r : *records) out.push_back(r.fields);
  }
  return out;
}

std::string Error(std::string_view text, CsvOptions options = {}) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(text, options);
  EXPECT_FALSE(records.ok()) << "parsed: " << text;
  EXPECT_EQ(records.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(records.status().message());
}

using Rows = std::vector<std::vector<std::string>>;

TEST(Csv, PlainFieldsEmptyFieldsAndLineEnds) {
  EXPECT_EQ(Fields("a,b,c"), (Rows{{"a", "b", "c"}}));
  EXPECT_EQ(Fields("a,b,c\n"), (Rows{{"a", "b", "c"}}));  // no record after the last end
  EXPECT_EQ(Fields("a,b\r\nc,d\r\n"), (Rows{{"a", "b"}, {"c", "d"}}));  // CRLF
  EXPECT_EQ(Fields("a,b\nc,d"), (Rows{{"a", "b"}, {"c", "d"}}));        // LF, no final end
  EXPECT_EQ(Fields("a,b\rc,d"), (Rows{{"a", "b"}, {"c", "d"}}));        // a lone CR
  EXPECT_EQ(Fields(",,"), (Rows{{"", "", ""}}));
  EXPECT_EQ(Fields("a,"), (Rows{{"a", ""}}));  // a trailing comma is an empty last field
  EXPECT_EQ(Fields(""), Rows{});
  EXPECT_EQ(Fields(" a , b "), (Rows{{" a ", " b "}}));  // unquoted spaces are data
}

TEST(Csv, QuotedFields) {
  EXPECT_EQ(Fields(R"("a,b",c)"), (Rows{{"a,b", "c"}}));                 // embedded comma
  EXPECT_EQ(Fields(R"("say ""hi""",x)"), (Rows{{R"(say "hi")", "x"}}));  // doubled quotes
  EXPECT_EQ(Fields(R"("""")"), (Rows{{"\""}}));
  EXPECT_EQ(Fields(R"("",x)"), (Rows{{"", "x"}}));
  EXPECT_EQ(Fields("\"\""), (Rows{{""}}));  // one empty quoted field is a record, not blank
  EXPECT_EQ(Fields("\"two\nlines\",x\r\ny,z"), (Rows{{"two\nlines", "x"}, {"y", "z"}}));
  EXPECT_EQ(Fields("\"crlf\r\ninside\",x\r\n"), (Rows{{"crlf\r\ninside", "x"}}));
  EXPECT_EQ(Fields(R"(a, "b,c" ,d)"), (Rows{{"a", "b,c", "d"}}));  // blanks around quotes
  EXPECT_EQ(Fields("a,\"9 8.5 7 10\"\r\n"), (Rows{{"a", "9 8.5 7 10"}}));
}

TEST(Csv, BlankAndCommentLines) {
  EXPECT_EQ(Fields("a\n\n  \nb\n"), (Rows{{"a"}, {"b"}}));
  EXPECT_EQ(Fields("a\n\nb\n", CsvOptions{.skip_blank_lines = false}), (Rows{{"a"}, {""}, {"b"}}));
  EXPECT_EQ(Fields("# note, with \"quotes\nb\n", CsvOptions{.comment = '#'}), (Rows{{"b"}}));
  EXPECT_EQ(Fields("#a,b\n"), (Rows{{"#a", "b"}}));  // no comment character: data
  // A '#' inside a quoted field on a later line is data, not a comment.
  EXPECT_EQ(Fields("\"x\n#y\",z\n", CsvOptions{.comment = '#'}), (Rows{{"x\n#y", "z"}}));
}

TEST(Csv, PositionsOfRecordsAndFields) {
  absl::StatusOr<std::vector<CsvRecord>> records =
      ParseCsv("a,\"b\nc\",d\r\n\r\nee,  \"f\"\n", CsvOptions{});
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].line, 1);
  EXPECT_EQ((*records)[0].positions[1].line, 1);
  EXPECT_EQ((*records)[0].positions[1].column, 3);
  EXPECT_EQ((*records)[0].positions[2].line, 2);  // after the line break inside quotes
  EXPECT_EQ((*records)[0].positions[2].column, 4);
  EXPECT_EQ((*records)[1].line, 4);
  EXPECT_EQ((*records)[1].positions[1].column, 6);  // the opening quote
}

TEST(Csv, ErrorsNameLineAndColumn) {
  EXPECT_THAT(Error("a,b\nc,\"unterminated\nmore"),
              HasSubstr("line 2, column 3: unterminated quoted field"));
  EXPECT_THAT(Error("\"ab\"c,d"), HasSubstr("line 1, column 5: expected a comma or the end of the "
                                            "line after a closing quote, found 'c'"));
  EXPECT_THAT(Error("x\r\nab\"c\"\r\n"), HasSubstr("line 2, column 3: a quote inside an "
                                                   "unquoted field"));
  EXPECT_THAT(Error("\"a\nb\" x"), HasSubstr("line 2, column 4"));
}

constexpr char kRow[] = "clinic-a,idem-1,t1,c1,s-9,3,2024-03-01T10:00:00Z,client,srs";

TEST(CsvSubmissions, AnswersQuotedWithSpacesAndIdsWithCommas) {
  auto f = ParseCsvLine(absl::StrCat(kRow, ",\"9 8.5 7 10\""), "ignored");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->answers_size(), 4);
  EXPECT_DOUBLE_EQ(f->answers(1).value(), 8.5);
  EXPECT_EQ(f->answers(3).item(), 4);
  auto quoted =
      ParseCsvLine(R"(,"idem,""7""",t1,c1,s1,1,2024-03-01T10:00:00Z,client,srs,"1 2 3 4")", "t-d");
  ASSERT_TRUE(quoted.ok()) << quoted.status();
  EXPECT_EQ(quoted->idempotency_id(), R"(idem,"7")");
  EXPECT_EQ(quoted->tenant_id(), "t-d");  // empty tenant: the default
}

TEST(CsvSubmissions, FieldErrorsNameTheColumn) {
  auto bad_number = ParseCsvLine("a,b,t,c,s,three,2024-03-01T10:00:00Z,client,srs,1", "");
  EXPECT_THAT(std::string(bad_number.status().message()),
              HasSubstr("line 1, column 11 (session_number): 'three' is not an integer"));
  auto bad_rater = ParseCsvLine("a,b,t,c,s,3,2024-03-01T10:00:00Z,boss,srs,1", "");
  EXPECT_THAT(std::string(bad_rater.status().message()), HasSubstr("(rater)"));
  auto short_row = ParseCsvLine("a,b,t", "");
  EXPECT_THAT(std::string(short_row.status().message()), HasSubstr("expected 10 fields, found 3"));
}

std::string WriteFile(const std::string& name, const std::string& text) {
  std::string path = absl::StrCat(::testing::TempDir(), "/", name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(CsvSubmissions, FilesWithAHeaderRowInAnyOrder) {
  std::string path =
      WriteFile("header.csv",
                "answers,instrument_id,rater,session_time,session_number,session_id,client_id,"
                "therapist_id,idempotency_id\r\n"
                "# a comment line\r\n"
                "\"9 9 9 9\",srs,client,2024-03-01T10:00:00Z,1,s1,\"c,1\",t1,i1\r\n"
                "\r\n"
                "\"5 5 5\",wai-sr-t,therapist,2024-03-01T10:00:00Z,1,s1,c1,t1,i2\r\n");
  auto read = ReadSubmissionFile(path, "clinic-h");
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].client_id(), "c,1");
  EXPECT_EQ((*read)[0].tenant_id(), "clinic-h");
  EXPECT_EQ((*read)[1].rater(), alliance::v1::RATER_THERAPIST);
  EXPECT_EQ((*read)[1].answers_size(), 3);
}

TEST(CsvSubmissions, FileErrorsNameFileLineAndColumn) {
  auto unterminated = ReadSubmissionFile(
      WriteFile("open.csv", absl::StrCat(kRow, ",1 2 3 4\n", kRow, ",\"1 2 3 4\n")), "");
  EXPECT_THAT(std::string(unterminated.status().message()),
              HasSubstr("open.csv: line 2, column 61: unterminated quoted field"));
  auto unknown = ReadSubmissionFile(WriteFile("unknown.csv", "tenant_id,colour\n"), "");
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr("line 1, column 11: unknown column 'colour'"));
  auto missing = ReadSubmissionFile(WriteFile("missing.csv", "tenant_id,answers\n"), "");
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("no column 'idempotency_id'"));
  auto ragged =
      ReadSubmissionFile(WriteFile("ragged.csv", absl::StrCat(kRow, ",1 2 3 4\n", kRow, "\n")), "");
  EXPECT_THAT(std::string(ragged.status().message()),
              HasSubstr("ragged.csv: line 2: expected 10 fields, found 9"));
  auto bad_time =
      ReadSubmissionFile(WriteFile("time.csv", "a,b,t,c,s,3,yesterday,client,srs,1 2 3 4\n"), "");
  EXPECT_THAT(std::string(bad_time.status().message()),
              HasSubstr("line 1, column 13 (session_time)"));
}

}  // namespace
}  // namespace alliance::ctl
