// Tests of ParseInstrumentJson: a valid definition round-trips every field, and each kind of
// mistake is refused with a message that names the source file and the field.
#include "analytics/instrument.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alliance::analytics {
namespace {

using ::testing::HasSubstr;

constexpr char kValid[] = R"({
  "id": "demo",
  "name": "Demo scale",
  "references": "none",
  "raters": ["client", "observer"],
  "item_count": 4,
  "item_min": 1,
  "item_max": 7,
  "step": 1,
  "reverse_items": [2],
  "subscales": [
    {"name": "bond", "items": [1, 2], "factor": "bond", "cutoff": {"value": 5, "direction": "at_or_below"}},
    {"name": "task", "items": [3, 4]}
  ],
  "total_cutoff": {"value": 14, "direction": "below"},
  "population_sd": 4.5,
  "reliability": 0.8,
  "item_check_below": 3,
  "check": ["population_sd"]
})";

// Replaces the first occurrence of `from` in kValid by `to`.
std::string Mutate(std::string_view from, std::string_view to) {
  std::string text = kValid;
  size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  text.replace(pos, from.size(), to);
  return text;
}

std::string ErrorOf(const std::string& text) {
  absl::StatusOr<Instrument> ins = ParseInstrumentJson(text, "demo.json");
  EXPECT_FALSE(ins.ok());
  if (ins.ok()) return "";
  EXPECT_EQ(ins.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(ins.status().message());
}

TEST(ParseInstrumentJsonTest, ReadsEveryField) {
  absl::StatusOr<Instrument> ins = ParseInstrumentJson(kValid, "demo.json");
  ASSERT_TRUE(ins.ok()) << ins.status();
  EXPECT_EQ(ins->id, "demo");
  EXPECT_EQ(ins->name, "Demo scale");
  EXPECT_EQ(ins->references, "none");
  EXPECT_EQ(ins->raters, (std::vector<Rater>{Rater::kClient, Rater::kObserver}));
  EXPECT_TRUE(ins->AllowsRater(Rater::kObserver));
  EXPECT_FALSE(ins->AllowsRater(Rater::kTherapist));
  EXPECT_EQ(ins->item_count, 4);
  EXPECT_EQ(ins->item_min, 1);
  EXPECT_EQ(ins->item_max, 7);
  EXPECT_EQ(ins->TotalMin(), 4);
  EXPECT_EQ(ins->TotalMax(), 28);
  EXPECT_EQ(ins->reverse_items, std::vector<int>{2});
  ASSERT_EQ(ins->subscales.size(), 2u);
  EXPECT_EQ(ins->subscales[0].name, "bond");
  EXPECT_EQ(ins->subscales[0].items, (std::vector<int>{1, 2}));
  ASSERT_TRUE(ins->subscales[0].cutoff.has_value());
  EXPECT_EQ(ins->subscales[0].cutoff->direction, CutoffDirection::kAtOrBelow);
  EXPECT_EQ(ins->subscales[1].factor, "task");  // defaults to the subscale name
  EXPECT_FALSE(ins->subscales[1].cutoff.has_value());
  ASSERT_TRUE(ins->total_cutoff.has_value());
  EXPECT_EQ(ins->total_cutoff->value, 14);
  EXPECT_EQ(ins->population_sd, 4.5);
  EXPECT_EQ(ins->reliability, 0.8);
  EXPECT_EQ(ins->item_check_below, 3);
  EXPECT_EQ(ins->check_fields, std::vector<std::string>{"population_sd"});
}

TEST(CutoffTest, DirectionDecidesTheBoundary) {
  Cutoff below{36, CutoffDirection::kBelow};
  EXPECT_TRUE(below.IsConcern(35.9));
  EXPECT_FALSE(below.IsConcern(36));
  Cutoff at_or_below{36, CutoffDirection::kAtOrBelow};
  EXPECT_TRUE(at_or_below.IsConcern(36));
  EXPECT_FALSE(at_or_below.IsConcern(36.1));
}

TEST(ParseInstrumentJsonTest, NamesSourceAndFieldOfEachMistake) {
  EXPECT_THAT(ErrorOf("{"), HasSubstr("demo.json: not valid JSON"));
  EXPECT_THAT(ErrorOf("[]"), HasSubstr("must be a JSON object"));
  EXPECT_THAT(ErrorOf(Mutate(R"("id": "demo",)", "")),
              HasSubstr("demo.json: field 'id': is required"));
  EXPECT_THAT(ErrorOf(Mutate(R"("id": "demo")", R"("id": "Demo X")")), HasSubstr("field 'id'"));
  EXPECT_THAT(ErrorOf(Mutate(R"("name": "Demo scale")", R"("name": 3)")),
              HasSubstr("field 'name': must be a string"));
  EXPECT_THAT(ErrorOf(Mutate(R"(["client", "observer"])", R"(["client", "patient"])")),
              HasSubstr("field 'raters[1]'"));
  EXPECT_THAT(ErrorOf(Mutate(R"(["client", "observer"])", R"(["client", "client"])")),
              HasSubstr("field 'raters[1]': is listed twice"));
  EXPECT_THAT(ErrorOf(Mutate(R"(["client", "observer"])", "[]")), HasSubstr("field 'raters'"));
  EXPECT_THAT(ErrorOf(Mutate(R"("item_count": 4)", R"("item_count": 4.5)")),
              HasSubstr("field 'item_count': must be an integer"));
  EXPECT_THAT(ErrorOf(Mutate(R"("item_count": 4)", R"("item_count": 0)")),
              HasSubstr("field 'item_count'"));
  EXPECT_THAT(ErrorOf(Mutate(R"("item_max": 7)", R"("item_max": 1)")),
              HasSubstr("field 'item_max': 1 must exceed item_min 1"));
  EXPECT_THAT(ErrorOf(Mutate(R"("step": 1)", R"("step": 4)")),
              HasSubstr("field 'step': 4 does not divide the range 1..7"));
  EXPECT_THAT(ErrorOf(Mutate(R"("step": 1)", R"("step": 0)")), HasSubstr("field 'step'"));
  EXPECT_THAT(ErrorOf(Mutate(R"("reverse_items": [2])", R"("reverse_items": [5])")),
              HasSubstr("field 'reverse_items[0]': item 5 is outside 1..4"));
  EXPECT_THAT(ErrorOf(Mutate(R"("items": [1, 2])", R"("items": [1, 13])")),
              HasSubstr("field 'subscales[0].items[1]': item 13 is outside 1..4"));
  EXPECT_THAT(ErrorOf(Mutate(R"("items": [1, 2])", R"("items": [1, 1])")),
              HasSubstr("field 'subscales[0].items[1]': item 1 is listed twice"));
  EXPECT_THAT(ErrorOf(Mutate(R"("items": [1, 2])", R"("items": [])")),
              HasSubstr("field 'subscales[0].items': must not be empty"));
  EXPECT_THAT(ErrorOf(Mutate(R"("name": "task")", R"("name": "bond")")),
              HasSubstr("field 'subscales[1].name': subscale \"bond\" is defined twice"));
  EXPECT_THAT(ErrorOf(Mutate(R"("value": 5,)", R"("value": 15,)")),
              HasSubstr("field 'subscales[0].cutoff.value': 15 is outside the score range 2..14"));
  EXPECT_THAT(ErrorOf(Mutate(R"("direction": "at_or_below")", R"("direction": "under")")),
              HasSubstr("field 'subscales[0].cutoff.direction'"));
  EXPECT_THAT(ErrorOf(Mutate(R"({"value": 14,)", R"({"value": 40,)")),
              HasSubstr("field 'total_cutoff.value': 40 is outside the score range 4..28"));
  EXPECT_THAT(ErrorOf(Mutate(R"("population_sd": 4.5)", R"("population_sd": 0)")),
              HasSubstr("field 'population_sd'"));
  EXPECT_THAT(ErrorOf(Mutate(R"("population_sd": 4.5,)", "")),
              HasSubstr("field 'population_sd': is required"));
  EXPECT_THAT(ErrorOf(Mutate(R"("reliability": 0.8)", R"("reliability": 1)")),
              HasSubstr("field 'reliability': 1 must be strictly between 0 and 1"));
  EXPECT_THAT(ErrorOf(Mutate(R"("item_check_below": 3)", R"("item_check_below": 9)")),
              HasSubstr("field 'item_check_below'"));
  EXPECT_THAT(ErrorOf(Mutate(R"("check": ["population_sd"])", R"("check": ["name"])")),
              HasSubstr("field 'check[0]'"));
  EXPECT_THAT(ErrorOf(Mutate(R"("references": "none",)", R"("referencs": "none",)")),
              HasSubstr("field 'referencs': is not a known field"));
  EXPECT_THAT(ErrorOf(Mutate(R"("factor": "bond",)", R"("factr": "bond",)")),
              HasSubstr("field 'subscales[0].factr': is not a known field"));
}

TEST(RaterNameTest, NamesEveryRater) {
  EXPECT_EQ(RaterName(Rater::kClient), "client");
  EXPECT_EQ(RaterName(Rater::kTherapist), "therapist");
  EXPECT_EQ(RaterName(Rater::kObserver), "observer");
  EXPECT_EQ(RaterName(Rater::kUnspecified), "unspecified");
}

}  // namespace
}  // namespace alliance::analytics
