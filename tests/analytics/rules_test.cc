// Tests of ParseRuleConfigJson: the shipped default file equals the compiled-in defaults,
// overrides apply, and mistakes are refused naming the file and the key.
#include "analytics/rules.h"

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alliance::analytics {
namespace {

using ::testing::HasSubstr;

std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(std::string(ALLIANCE_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ParseRuleConfigJsonTest, DefaultFileEqualsCompiledDefaultsAndListsEveryField) {
  std::string text = ReadSourceFile("analytics/rules.default.json");
  ASSERT_FALSE(text.empty());
  absl::StatusOr<RuleConfig> rules = ParseRuleConfigJson(text, "rules.default.json");
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ(*rules, RuleConfig{});
  // Every field is listed, so the file documents every threshold for operators who copy it:
  // 24 fields plus "$comment". Update this count together with RuleConfig.
  size_t keys = 0;
  for (size_t pos = text.find("\": "); pos != std::string::npos; pos = text.find("\": ", pos + 1)) {
    ++keys;
  }
  EXPECT_EQ(keys, 25u);
}

TEST(ParseRuleConfigJsonTest, EmptyObjectKeepsDefaults) {
  absl::StatusOr<RuleConfig> rules = ParseRuleConfigJson("{}", "r.json");
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(*rules, RuleConfig{});
  EXPECT_EQ(rules->reliable_change_z, 3.7);
  EXPECT_EQ(rules->deflection_z, 3.4);
  EXPECT_TRUE(rules->decline_from_baseline_enabled);
  EXPECT_EQ(rules->decline_from_baseline_z, 3.4);
  EXPECT_EQ(rules->repair_window_sessions, 3);
}

TEST(ParseRuleConfigJsonTest, DisengagementRulesAndSeverity) {
  absl::StatusOr<RuleConfig> defaults = ParseRuleConfigJson("{}", "r.json");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->disengagement_therapist_sessions_without_client, 2);
  EXPECT_EQ(defaults->disengagement_days_without_rating_open_rupture, 14);
  EXPECT_EQ(defaults->disengagement_severity, Severity::kHigh);
  absl::StatusOr<RuleConfig> rules = ParseRuleConfigJson(
      R"({"disengagement_therapist_sessions_without_client": 3,
          "disengagement_days_without_rating_open_rupture": 10.5,
          "disengagement_severity": "critical"})",
      "r.json");
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ(rules->disengagement_therapist_sessions_without_client, 3);
  EXPECT_EQ(rules->disengagement_days_without_rating_open_rupture, 10.5);
  EXPECT_EQ(rules->disengagement_severity, Severity::kCritical);
  absl::StatusOr<RuleConfig> bad =
      ParseRuleConfigJson(R"({"disengagement_severity": "urgent"})", "r.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("disengagement_severity"), std::string::npos);
  EXPECT_FALSE(
      ParseRuleConfigJson(R"({"disengagement_days_without_rating_open_rupture": -1})", "r.json")
          .ok());
}

TEST(ParseRuleConfigJsonTest, OverridesApply) {
  absl::StatusOr<RuleConfig> rules = ParseRuleConfigJson(
      R"({"deflection_k": 2, "decline_enabled": false, "repair_window_sessions": 4,
          "$comment": "Stiles 2004 uses 2 SD"})",
      "r.json");
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ(rules->deflection_k, 2);
  EXPECT_FALSE(rules->decline_enabled);
  EXPECT_EQ(rules->repair_window_sessions, 4);
  EXPECT_EQ(rules->cusum_limit, 3.0);
}

TEST(ParseRuleConfigJsonTest, RefusesMistakesNamingFileAndKey) {
  auto error = [](std::string_view json) {
    absl::StatusOr<RuleConfig> rules = ParseRuleConfigJson(json, "ops.json");
    EXPECT_FALSE(rules.ok());
    EXPECT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(rules.status().message());
  };
  EXPECT_THAT(error("{"), HasSubstr("ops.json: not valid JSON"));
  EXPECT_THAT(error("[1]"), HasSubstr("ops.json: field '(document)'"));
  EXPECT_THAT(error(R"({"deflection_kk": 2})"),
              HasSubstr("ops.json: field 'deflection_kk': is not a known field"));
  EXPECT_THAT(error(R"({"ewma_alpha": 0})"), HasSubstr("ops.json: field 'ewma_alpha'"));
  EXPECT_THAT(error(R"({"ewma_alpha": 1.5})"), HasSubstr("field 'ewma_alpha'"));
  EXPECT_THAT(error(R"({"recent_window": 1})"), HasSubstr("field 'recent_window': 1 is outside"));
  EXPECT_THAT(error(R"({"recent_window": 2.5})"),
              HasSubstr("field 'recent_window': must be an integer"));
  EXPECT_THAT(error(R"({"decline_enabled": 1})"),
              HasSubstr("field 'decline_enabled': must be true or false"));
  EXPECT_THAT(error(R"({"reliable_change_z": "1.96"})"),
              HasSubstr("field 'reliable_change_z': must be a number"));
  EXPECT_THAT(error(R"({"cusum_limit": -1})"), HasSubstr("field 'cusum_limit'"));
  EXPECT_THAT(error(R"({"repair_window_sessions": 0})"),
              HasSubstr("field 'repair_window_sessions'"));
  EXPECT_THAT(error(R"({"decline_max_sessions": 51})"), HasSubstr("field 'decline_max_sessions'"));
  EXPECT_THAT(error(R"({"deflection_z": -1})"), HasSubstr("field 'deflection_z'"));
  EXPECT_THAT(error(R"({"decline_from_baseline_z": 0})"),
              HasSubstr("field 'decline_from_baseline_z'"));
  EXPECT_THAT(error(R"({"decline_from_baseline_enabled": "yes"})"),
              HasSubstr("field 'decline_from_baseline_enabled': must be true or false"));
}

}  // namespace
}  // namespace alliance::analytics
