// Tests of the factor table: the built-in table maps subscales to the seed article's factors,
// unknown keys fall back to the overall entry, and bad tables are refused naming the field.
#include "analytics/factors.h"

#include <fstream>
#include <sstream>

#include "analytics/embedded_data.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alliance::analytics {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(FactorTableTest, BuiltInMapsSubscalesToSeedFactors) {
  const FactorTable& t = FactorTable::BuiltIn();
  EXPECT_THAT(t.Find("bond").factors,
              ElementsAre("empathy and validation", "safe, non-judgemental space",
                          "mutual trust and respect"));
  EXPECT_THAT(t.Find("goal").factors,
              ElementsAre("goal agreement and collaboration", "shared understanding"));
  EXPECT_THAT(t.Find("task").factors,
              ElementsAre("skill and competence", "feedback and adaptation"));
  EXPECT_THAT(t.Find("overall").factors, ElementsAre("shared journey"));
  for (const char* key : {"bond", "goal", "task", "overall", "repaired"}) {
    EXPECT_FALSE(t.Find(key).focus.empty()) << key;
    EXPECT_EQ(t.Find(key).focus.find('\n'), std::string::npos) << "one line: " << key;
  }
  EXPECT_EQ(t.Find("no-such-factor"), t.Find("overall"));
}

TEST(FactorTableTest, CompiledInTextEqualsTheDataFile) {
  std::ifstream in(std::string(ALLIANCE_SOURCE_DIR) + "/analytics/factors.json");
  std::stringstream text;
  text << in.rdbuf();
  ASSERT_EQ(BuiltInFactorFiles().size(), 1u);
  EXPECT_EQ(BuiltInFactorFiles()[0].text, text.str());
}

TEST(FactorTableTest, RefusesBadTables) {
  auto error = [](std::string_view json) {
    absl::StatusOr<FactorTable> t = FactorTable::Parse(json, "f.json");
    EXPECT_FALSE(t.ok());
    return std::string(t.status().message());
  };
  constexpr char kRequired[] = R"("overall": {"factors": ["x"], "focus": "y"},
                                  "repaired": {"factors": ["x"], "focus": "y"})";
  EXPECT_THAT(error(R"({"overall": {"factors": ["x"], "focus": "y"}})"),
              HasSubstr("f.json: field 'repaired': is required"));
  EXPECT_THAT(error(std::string("{") + kRequired + R"(, "bond": {"focus": "y"}})"),
              HasSubstr("field 'bond.factors': is required"));
  EXPECT_THAT(error(std::string("{") + kRequired + R"(, "bond": {"factors": [], "focus": "y"}})"),
              HasSubstr("field 'bond.factors': must be a non-empty array"));
  EXPECT_THAT(error(std::string("{") + kRequired +
                    R"(, "bond": {"factors": ["a"], "focus": "y", "extra": 1}})"),
              HasSubstr("field 'bond.extra': is not a known field"));
  EXPECT_TRUE(FactorTable::Parse(std::string("{") + kRequired + "}", "f.json").ok());
}

}  // namespace
}  // namespace alliance::analytics
