// Tests of the instrument registry: the built-in definitions carry the published figures
// (docs/analytics.md), the compiled-in copies equal the data files, and operator definitions extend
// or replace them with errors that name the file.
#include "analytics/registry.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "analytics/embedded_data.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alliance::analytics {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<int> SubscaleItems(const Instrument& ins, std::string_view name) {
  for (const Subscale& s : ins.subscales) {
    if (s.name == name) return s.items;
  }
  return {};
}

TEST(BuiltInRegistryTest, HasTheFiveInstruments) {
  EXPECT_THAT(InstrumentRegistry::BuiltIn().Ids(),
              ElementsAre("haq-ii", "sai", "srs", "wai-sr", "wai-sr-t"));
  EXPECT_EQ(InstrumentRegistry::BuiltIn().Find("nope"), nullptr);
}

TEST(BuiltInRegistryTest, SrsMatchesTheLiterature) {
  const Instrument* srs = InstrumentRegistry::BuiltIn().Find("srs");
  ASSERT_NE(srs, nullptr);
  EXPECT_EQ(srs->item_count, 4);
  EXPECT_EQ(srs->item_min, 0);
  EXPECT_EQ(srs->item_max, 10);
  EXPECT_EQ(srs->step, 0.1);
  EXPECT_EQ(srs->TotalMax(), 40);
  ASSERT_TRUE(srs->total_cutoff.has_value());
  EXPECT_EQ(srs->total_cutoff->value, 36);
  EXPECT_EQ(srs->total_cutoff->direction, CutoffDirection::kBelow);
  EXPECT_EQ(srs->item_check_below, 9);
  EXPECT_EQ(srs->population_sd, 5);
  EXPECT_EQ(srs->reliability, 0.88);
  EXPECT_THAT(srs->raters, ElementsAre(Rater::kClient));
  ASSERT_EQ(srs->subscales.size(), 4u);
  EXPECT_EQ(srs->subscales[0].name, "relationship");
  EXPECT_EQ(srs->subscales[0].factor, "bond");
  EXPECT_EQ(srs->subscales[1].name, "goals");
  EXPECT_EQ(srs->subscales[1].factor, "goal");
  EXPECT_EQ(srs->subscales[2].name, "approach");
  EXPECT_EQ(srs->subscales[2].factor, "task");
  EXPECT_EQ(srs->subscales[3].name, "overall");
  EXPECT_EQ(srs->subscales[3].factor, "overall");
  // Literature defaults are flagged for an operator to confirm.
  EXPECT_THAT(srs->check_fields,
              ElementsAre("total_cutoff", "item_check_below", "population_sd", "reliability"));
}

TEST(BuiltInRegistryTest, WaiSrFormsShareTheItemMap) {
  for (const char* id : {"wai-sr", "wai-sr-t"}) {
    SCOPED_TRACE(id);
    const Instrument* wai = InstrumentRegistry::BuiltIn().Find(id);
    ASSERT_NE(wai, nullptr);
    EXPECT_EQ(wai->item_count, 12);
    EXPECT_EQ(wai->item_min, 1);
    EXPECT_EQ(wai->item_max, 5);
    EXPECT_TRUE(wai->reverse_items.empty());
    EXPECT_FALSE(wai->total_cutoff.has_value());  // no official cutoff
    EXPECT_EQ(SubscaleItems(*wai, "task"), (std::vector<int>{1, 2, 10, 12}));
    EXPECT_EQ(SubscaleItems(*wai, "bond"), (std::vector<int>{3, 5, 7, 9}));
    EXPECT_EQ(SubscaleItems(*wai, "goal"), (std::vector<int>{4, 6, 8, 11}));
    EXPECT_EQ(wai->population_sd, 8);
    EXPECT_EQ(wai->reliability, 0.91);
  }
  EXPECT_THAT(InstrumentRegistry::BuiltIn().Find("wai-sr")->raters, ElementsAre(Rater::kClient));
  EXPECT_THAT(InstrumentRegistry::BuiltIn().Find("wai-sr-t")->raters,
              ElementsAre(Rater::kTherapist));
}

TEST(BuiltInRegistryTest, HaqIiAndSai) {
  const Instrument* haq = InstrumentRegistry::BuiltIn().Find("haq-ii");
  ASSERT_NE(haq, nullptr);
  EXPECT_EQ(haq->item_count, 19);
  EXPECT_EQ(haq->item_min, 1);
  EXPECT_EQ(haq->item_max, 6);
  EXPECT_EQ(haq->reverse_items, (std::vector<int>{4, 8, 11, 16, 19}));
  EXPECT_THAT(haq->raters, ElementsAre(Rater::kClient, Rater::kTherapist));
  const Instrument* sai = InstrumentRegistry::BuiltIn().Find("sai");
  ASSERT_NE(sai, nullptr);
  EXPECT_EQ(sai->item_count, 6);
  EXPECT_EQ(sai->item_min, 0);
  EXPECT_EQ(sai->item_max, 6);
  EXPECT_THAT(sai->check_fields, ::testing::Contains("item_max"));
}

// The data files are the source of truth: the compiled-in text must be exactly their content.
TEST(BuiltInRegistryTest, CompiledInTextEqualsTheDataFiles) {
  std::filesystem::path dir = std::filesystem::path(ALLIANCE_SOURCE_DIR) / "analytics/instruments";
  size_t files_on_disk = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") ++files_on_disk;
  }
  EXPECT_EQ(BuiltInInstrumentFiles().size(), files_on_disk);
  for (const EmbeddedFile& file : BuiltInInstrumentFiles()) {
    std::ifstream in(dir / std::string(file.name));
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), file.text) << file.name;
  }
}

constexpr char kExtra[] = R"({"id": "mini", "name": "Mini", "raters": ["observer"],
  "item_count": 2, "item_min": 0, "item_max": 4, "step": 1,
  "population_sd": 1.5, "reliability": 0.7})";

TEST(WithExtraTest, AddsAnInstrument) {
  absl::StatusOr<InstrumentRegistry> reg = InstrumentRegistry::WithExtra({{"mini.json", kExtra}});
  ASSERT_TRUE(reg.ok()) << reg.status();
  ASSERT_NE(reg->Find("mini"), nullptr);
  EXPECT_EQ(reg->Find("mini")->item_count, 2);
  EXPECT_NE(reg->Find("srs"), nullptr);
  EXPECT_EQ(reg->Ids().size(), 6u);
}

TEST(WithExtraTest, ReplacesABuiltInById) {
  std::string srs_at_or_below =
      R"json({"id": "srs", "name": "SRS (vendor rule)", "raters": ["client"],
    "item_count": 4, "item_min": 0, "item_max": 10, "step": 0.1,
    "total_cutoff": {"value": 36, "direction": "at_or_below"},
    "population_sd": 5, "reliability": 0.88})json";
  absl::StatusOr<InstrumentRegistry> reg =
      InstrumentRegistry::WithExtra({{"srs-local.json", srs_at_or_below}});
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_EQ(reg->Find("srs")->total_cutoff->direction, CutoffDirection::kAtOrBelow);
  EXPECT_EQ(reg->Ids().size(), 5u);
  // The shared built-in registry is untouched.
  EXPECT_EQ(InstrumentRegistry::BuiltIn().Find("srs")->total_cutoff->direction,
            CutoffDirection::kBelow);
}

TEST(WithExtraTest, RefusesTwoDocumentsWithOneId) {
  absl::StatusOr<InstrumentRegistry> reg =
      InstrumentRegistry::WithExtra({{"a.json", kExtra}, {"b.json", kExtra}});
  ASSERT_FALSE(reg.ok());
  EXPECT_THAT(reg.status().message(),
              HasSubstr("b.json: field 'id': instrument \"mini\" is already defined in a.json"));
}

TEST(WithExtraTest, RefusesAnInvalidDocumentNamingIt) {
  absl::StatusOr<InstrumentRegistry> reg =
      InstrumentRegistry::WithExtra({{"/etc/alliance/bad.json", R"({"id": "x"})"}});
  ASSERT_FALSE(reg.ok());
  EXPECT_EQ(reg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reg.status().message(),
              HasSubstr("/etc/alliance/bad.json: field 'name': is required"));
}

}  // namespace
}  // namespace alliance::analytics
