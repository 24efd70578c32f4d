// Tests of answer validation and scoring: range and step checks with field-naming errors,
// reverse scoring, subscale sums and POMP, all against hand-computed values.
#include "analytics/scoring.h"

#include "analytics/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alliance::analytics {
namespace {

using ::testing::HasSubstr;

const Instrument& Get(std::string_view id) { return *InstrumentRegistry::BuiltIn().Find(id); }

std::string ValidationError(std::string_view id, std::vector<Answer> answers) {
  absl::Status s = ValidateAnswers(Get(id), answers);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  return std::string(s.message());
}

TEST(ValidateAnswersTest, AcceptsACompleteRatingInAnyItemOrder) {
  EXPECT_TRUE(
      ValidateAnswers(Get("srs"), std::vector<Answer>{{4, 9.9}, {2, 0}, {1, 10}, {3, 7.3}}).ok());
}

TEST(ValidateAnswersTest, NamesTheFieldOfEachProblem) {
  EXPECT_THAT(ValidationError("wai-sr", {{1, 5}, {2, 5}, {3, 7}}),
              HasSubstr("answers[2].value: 7 is outside 1..5 for item 3"));
  EXPECT_THAT(ValidationError("srs", {{1, 9.95}, {2, 9}, {3, 9}, {4, 9}}),
              HasSubstr("answers[0].value: 9.95 is not on the scale's step of 0.1 for item 1"));
  EXPECT_THAT(ValidationError("srs", {{1, 9}, {2, 9}, {3, 9}, {5, 9}}),
              HasSubstr("answers[3].item: 5 is outside 1..4"));
  EXPECT_THAT(ValidationError("srs", {{1, 9}, {2, 9}, {2, 9}, {4, 9}}),
              HasSubstr("answers[2].item: item 2 is answered twice"));
  EXPECT_THAT(ValidationError("srs", {{1, 9}, {2, 9}, {4, 9}}),
              HasSubstr("answers: item 3 of instrument srs is missing"));
  EXPECT_THAT(ValidationError("srs", {{1, -0.1}, {2, 9}, {3, 9}, {4, 9}}),
              HasSubstr("answers[0].value: -0.1 is outside 0..10"));
  EXPECT_THAT(ValidationError("srs", {{1, std::nan("")}, {2, 9}, {3, 9}, {4, 9}}),
              HasSubstr("answers[0].value: is not a finite number"));
}

TEST(AnswersByItemTest, OrdersByItemNumber) {
  std::vector<Answer> answers = {{3, 7.3}, {1, 10}, {4, 9.9}, {2, 0}};
  EXPECT_EQ(AnswersByItem(Get("srs"), answers), (std::vector<double>{10, 0, 7.3, 9.9}));
}

TEST(ScoreAnswersTest, SrsTotalSubscalesAndPomp) {
  // 8.7 + 9.1 + 9.2 + 9.0 = 36.0 exactly (no binary noise at the cutoff); POMP 36/40 = 90.
  std::vector<double> answers = {8.7, 9.1, 9.2, 9.0};
  absl::StatusOr<Score> score = ScoreAnswers(Get("srs"), answers);
  ASSERT_TRUE(score.ok()) << score.status();
  EXPECT_EQ(score->total, 36.0);
  EXPECT_DOUBLE_EQ(score->pomp, 90.0);
  ASSERT_EQ(score->subscales.size(), 4u);
  EXPECT_EQ(score->subscales[0].name, "relationship");
  EXPECT_EQ(score->subscales[0].score, 8.7);
  EXPECT_DOUBLE_EQ(score->subscales[0].pomp, 87.0);
  EXPECT_EQ(score->subscales[3].score, 9.0);
  EXPECT_FALSE(Get("srs").total_cutoff->IsConcern(score->total));
}

TEST(ScoreAnswersTest, WaiSrSubscaleSums) {
  // Items 1..12 = 1,2,3,4,5,1,2,3,4,5,1,2. Task (1,2,10,12) = 1+2+5+2 = 10;
  // Bond (3,5,7,9) = 3+5+2+4 = 14; Goal (4,6,8,11) = 4+1+3+1 = 9; total 33.
  // POMP total = (33-12)/(60-12) = 43.75; task (10-4)/16 = 37.5; bond 62.5; goal 31.25.
  std::vector<double> answers = {1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2};
  absl::StatusOr<Score> score = ScoreAnswers(Get("wai-sr"), answers);
  ASSERT_TRUE(score.ok()) << score.status();
  EXPECT_EQ(score->total, 33);
  EXPECT_DOUBLE_EQ(score->pomp, 43.75);
  ASSERT_EQ(score->subscales.size(), 3u);
  EXPECT_EQ(score->subscales[0].score, 10);
  EXPECT_DOUBLE_EQ(score->subscales[0].pomp, 37.5);
  EXPECT_EQ(score->subscales[1].score, 14);
  EXPECT_DOUBLE_EQ(score->subscales[1].pomp, 62.5);
  EXPECT_EQ(score->subscales[2].score, 9);
  EXPECT_DOUBLE_EQ(score->subscales[2].pomp, 31.25);
}

TEST(ScoreAnswersTest, HaqIiReverseScoresItems4_8_11_16_19) {
  // All 19 answers 6: the 14 forward items score 6, the 5 reverse items score 1+6-6 = 1.
  // Total = 14*6 + 5*1 = 89; POMP = (89-19)/(114-19) = 70/95 = 73.684...
  std::vector<double> answers(19, 6);
  absl::StatusOr<Score> score = ScoreAnswers(Get("haq-ii"), answers);
  ASSERT_TRUE(score.ok()) << score.status();
  EXPECT_EQ(score->total, 89);
  EXPECT_DOUBLE_EQ(score->pomp, 7000.0 / 95.0);
  // Answering 1 on the reverse items and 6 elsewhere is the best possible alliance: 114.
  for (int item : {4, 8, 11, 16, 19}) answers[item - 1] = 1;
  EXPECT_EQ(ScoreAnswers(Get("haq-ii"), answers)->total, 114);
  EXPECT_DOUBLE_EQ(ScoreAnswers(Get("haq-ii"), answers)->pomp, 100);
}

TEST(ScoreAnswersTest, RefusesAnswersThatDoNotFit) {
  std::vector<double> three = {9, 9, 9};
  EXPECT_THAT(ScoreAnswers(Get("srs"), three).status().message(),
              HasSubstr("3 answers given, instrument srs has 4 items"));
  std::vector<double> off_step = {9, 9, 9, 9.05};
  EXPECT_THAT(ScoreAnswers(Get("srs"), off_step).status().message(),
              HasSubstr("answers[3]: 9.05 is not on the scale's step"));
  std::vector<double> out_of_range = {0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 7};
  EXPECT_FALSE(ScoreAnswers(Get("sai"), out_of_range).ok());
}

TEST(TotalPompTest, MapsTheRangeOntoZeroToHundred) {
  EXPECT_DOUBLE_EQ(TotalPomp(Get("wai-sr"), 12), 0);
  EXPECT_DOUBLE_EQ(TotalPomp(Get("wai-sr"), 60), 100);
  EXPECT_DOUBLE_EQ(TotalPomp(Get("sai"), 27), 75);  // 27 / 36
}

}  // namespace
}  // namespace alliance::analytics
