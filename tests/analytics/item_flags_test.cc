// Item-level flags: items whose score is at or below the instrument's item_check_below, on the
// score after reverse scoring, carried on the scored rating, the timeline point and the
// latest picture of the series, and never an alert or a reason for at_risk by themselves.
// Hand-computed values throughout.
#include "analytics/dyad_analysis.h"
#include "analytics/instrument.h"
#include "analytics/registry.h"
#include "analytics/scoring.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/analytics/rating_builders.h"

namespace alliance::analytics {
namespace {

using namespace alliance::analytics::testing;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const Instrument& Get(std::string_view id) { return *InstrumentRegistry::BuiltIn().Find(id); }

std::vector<FlaggedItem> Flags(const Instrument& instrument, std::vector<double> answers) {
  absl::StatusOr<Score> score = ScoreAnswers(instrument, answers);
  EXPECT_TRUE(score.ok()) << score.status();
  return score.ok() ? score->flagged_items : std::vector<FlaggedItem>{};
}

TEST(ItemFlagsTest, SrsItemsAtOrBelowNineAreFlaggedInItemOrder) {
  // SRS item_check_below = 9: 8.7 is below, 9.0 is at the value (flagged), 9.1 is above.
  EXPECT_THAT(Flags(Get("srs"), {8.7, 9.1, 9.2, 9.0}),
              ElementsAre(FlaggedItem{1, 8.7, 9}, FlaggedItem{4, 9.0, 9}));
  EXPECT_THAT(Flags(Get("srs"), {9.1, 10, 9.9, 9.5}), IsEmpty());
  EXPECT_THAT(Flags(Get("srs"), {0, 10, 10, 10}), ElementsAre(FlaggedItem{1, 0, 9}));
}

TEST(ItemFlagsTest, AFlagDoesNotDependOnTheTotal) {
  // Total 9.9 + 9.9 + 9.9 + 8.9 = 38.6, well above the cutoff of 36: item 4 is still flagged.
  absl::StatusOr<Score> score = ScoreAnswers(Get("srs"), std::vector<double>{9.9, 9.9, 9.9, 8.9});
  ASSERT_TRUE(score.ok()) << score.status();
  EXPECT_EQ(score->total, 38.6);
  EXPECT_THAT(score->flagged_items, ElementsAre(FlaggedItem{4, 8.9, 9}));
}

TEST(ItemFlagsTest, InstrumentsWithoutACheckValueFlagNothing) {
  // WAI-SR, WAI-SR-T, HAq-II and SAI set no item_check_below (no published value).
  EXPECT_THAT(Flags(Get("wai-sr"), std::vector<double>(12, 1)), IsEmpty());
  EXPECT_THAT(Flags(Get("haq-ii"), std::vector<double>(19, 1)), IsEmpty());
  EXPECT_FALSE(Get("wai-sr-t").item_check_below.has_value());
  EXPECT_FALSE(Get("sai").item_check_below.has_value());
}

TEST(ItemFlagsTest, AReverseScoredItemIsJudgedOnItsScore) {
  // Items 1-4 on 1..5, items 2 and 4 reversed (score = 6 - answer), check value 2.
  // Answers 2, 5, 3, 1 score 2, 1, 3, 5: items 1 (score 2, at the value) and 2 (answered 5,
  // scored 1) are flagged; item 4, answered 1 but scored 5, is not.
  absl::StatusOr<Instrument> ins = ParseInstrumentJson(R"({
    "id": "rev", "name": "Reverse demo", "raters": ["client"],
    "item_count": 4, "item_min": 1, "item_max": 5, "step": 1, "reverse_items": [2, 4],
    "subscales": [], "population_sd": 3, "reliability": 0.8, "item_check_below": 2
  })",
                                                       "rev.json");
  ASSERT_TRUE(ins.ok()) << ins.status();
  EXPECT_THAT(Flags(*ins, {2, 5, 3, 1}), ElementsAre(FlaggedItem{1, 2, 2}, FlaggedItem{2, 1, 2}));
  EXPECT_THAT(Flags(*ins, {3, 1, 4, 2}), IsEmpty());  // scores 3, 5, 4, 4
}

TEST(ItemFlagsTest, PictureAndTimelineCarryFlagsWithoutAnAlert) {
  // Sessions 1-4 at 9.5 on every item (total 38); session 5: 9.9, 9.9, 9.9, 8.7 (total 38.4).
  // Nothing moved on the total (the largest change is +0.4), so no rule fires; item 4 of the
  // latest session is flagged. Session 6 (9.5 each) then clears the latest flags, while the
  // timeline keeps session 5's.
  std::vector<Rating> history = SrsSeries({38, 38, 38, 38});
  history.push_back(MakeRating(5, Rater::kClient, "srs", {9.9, 9.9, 9.9, 8.7}));
  DyadAnalysis a = AnalyzeDyad(InstrumentRegistry::BuiltIn(), RuleConfig{}, kDyad, history);
  EXPECT_TRUE(a.alerts.empty());
  EXPECT_FALSE(a.at_risk);
  ASSERT_EQ(a.series.size(), 1u);
  EXPECT_THAT(a.series[0].latest_flagged_items, ElementsAre(FlaggedItem{4, 8.7, 9}));
  ASSERT_EQ(a.points.size(), 5u);
  EXPECT_THAT(a.points[3].score.flagged_items, IsEmpty());
  EXPECT_THAT(a.points[4].score.flagged_items, ElementsAre(FlaggedItem{4, 8.7, 9}));

  history.push_back(Srs(6, 38));
  a = AnalyzeDyad(InstrumentRegistry::BuiltIn(), RuleConfig{}, kDyad, history);
  EXPECT_TRUE(a.alerts.empty());
  EXPECT_THAT(a.series[0].latest_flagged_items, IsEmpty());
  ASSERT_EQ(a.points.size(), 6u);
  EXPECT_THAT(a.points[4].score.flagged_items, ElementsAre(FlaggedItem{4, 8.7, 9}));
}

}  // namespace
}  // namespace alliance::analytics
