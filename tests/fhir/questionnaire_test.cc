// Questionnaire, Questionnaire Bundle and CodeSystem mapping (common/fhir/questionnaire.h).
#include "common/fhir/questionnaire.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "analytics/registry.h"
#include "nlohmann/json.hpp"

namespace alliance::fhir {
namespace {

using nlohmann::json;

const analytics::InstrumentRegistry& Registry() { return analytics::InstrumentRegistry::BuiltIn(); }

json Q(std::string_view id) { return json::parse(QuestionnaireJson(*Registry().Find(id))); }

// The extension of `element` with `url`, or null.
json Ext(const json& element, std::string_view url) {
  for (const json& e : element.value("extension", json::array())) {
    if (e["url"] == url) return e;
  }
  return nullptr;
}

TEST(QuestionnaireTest, UrlIsBasePlusId) {
  EXPECT_EQ(QuestionnaireUrl("srs"), "https://alliance.health/fhir/Questionnaire/srs");
  EXPECT_STREQ(kBase, "https://alliance.health/fhir");
}

TEST(QuestionnaireTest, HeaderElements) {
  json q = Q("wai-sr");
  EXPECT_EQ(q["resourceType"], "Questionnaire");
  EXPECT_EQ(q["id"], "wai-sr");
  EXPECT_EQ(q["url"], "https://alliance.health/fhir/Questionnaire/wai-sr");
  EXPECT_EQ(q["version"], QuestionnaireVersion(*Registry().Find("wai-sr")));
  EXPECT_EQ(q["name"], "AllianceWaiSr");
  EXPECT_EQ(q["title"], "Working Alliance Inventory - Short Revised, client form");
  EXPECT_EQ(q["status"], "active");
  EXPECT_EQ(q["subjectType"], json::array({"Patient"}));
  EXPECT_EQ(q["code"][0]["system"], kCodeSystemUrl);
  EXPECT_EQ(q["code"][0]["code"], "wai-sr.total");
}

TEST(QuestionnaireTest, RatersAllowedAreExtensions) {
  json haq = Q("haq-ii");
  std::set<std::string> raters;
  for (const json& e : haq["extension"]) {
    if (e["url"] == kRaterExtension) raters.insert(e["valueCode"].get<std::string>());
  }
  EXPECT_EQ(raters, (std::set<std::string>{"client", "therapist"}));
  json srs = Q("srs");
  EXPECT_EQ(srs["extension"].size(), 1u);
  EXPECT_EQ(srs["extension"][0]["valueCode"], "client");
}

TEST(QuestionnaireTest, VersionIsStableAndFollowsTheForm) {
  const analytics::Instrument& srs = *Registry().Find("srs");
  std::string v = QuestionnaireVersion(srs);
  EXPECT_EQ(v.size(), 12u);
  EXPECT_EQ(v, QuestionnaireVersion(srs));
  analytics::Instrument renamed = srs;
  renamed.name = "Another name";
  renamed.population_sd = 7;
  renamed.total_cutoff.reset();
  EXPECT_EQ(QuestionnaireVersion(renamed), v) << "names and psychometrics change no answer";
  analytics::Instrument wider = srs;
  wider.item_max = 11;
  EXPECT_NE(QuestionnaireVersion(wider), v);
  analytics::Instrument reversed = srs;
  reversed.reverse_items = {2};
  EXPECT_NE(QuestionnaireVersion(reversed), v);
  analytics::Instrument finer = srs;
  finer.step = 0.5;
  EXPECT_NE(QuestionnaireVersion(finer), v);
  EXPECT_NE(QuestionnaireVersion(*Registry().Find("wai-sr")),
            QuestionnaireVersion(*Registry().Find("wai-sr-t")));
}

TEST(QuestionnaireTest, IntegerItemsWithRangeAndStep) {
  json q = Q("haq-ii");
  ASSERT_EQ(q["item"].size(), 19u);  // no subscales: flat
  for (int i = 0; i < 19; ++i) {
    const json& item = q["item"][i];
    EXPECT_EQ(item["linkId"], std::to_string(i + 1));
    EXPECT_EQ(item["type"], "integer");
    EXPECT_EQ(item["required"], true);
    EXPECT_EQ(Ext(item, kMinValueExtension)["valueInteger"], 1);
    EXPECT_EQ(Ext(item, kMaxValueExtension)["valueInteger"], 6);
    EXPECT_EQ(Ext(item, kAnswerStepExtension)["valueDecimal"], 1.0);
    EXPECT_TRUE(Ext(item, kMaxDecimalPlacesExtension).is_null());
    EXPECT_TRUE(Ext(item, kSubscaleExtension).is_null());
  }
}

TEST(QuestionnaireTest, ReverseScoredItemsMarked) {
  json q = Q("haq-ii");
  std::set<int> reversed;
  for (const json& item : q["item"]) {
    json e = Ext(item, kReverseScoredExtension);
    if (!e.is_null()) {
      EXPECT_EQ(e["valueBoolean"], true);
      reversed.insert(std::stoi(item["linkId"].get<std::string>()));
    }
  }
  EXPECT_EQ(reversed, (std::set<int>{4, 8, 11, 16, 19}));
}

TEST(QuestionnaireTest, DecimalItemsForSrs) {
  json q = Q("srs");
  ASSERT_EQ(q["item"].size(), 4u);  // four one-item subscales: four groups
  const json& item = q["item"][0]["item"][0];
  EXPECT_EQ(item["linkId"], "1");
  EXPECT_EQ(item["type"], "decimal");
  EXPECT_EQ(Ext(item, kMinValueExtension)["valueDecimal"], 0.0);
  EXPECT_EQ(Ext(item, kMaxValueExtension)["valueDecimal"], 10.0);
  EXPECT_EQ(Ext(item, kMaxDecimalPlacesExtension)["valueInteger"], 1);
  EXPECT_EQ(Ext(item, kAnswerStepExtension)["valueDecimal"], 0.1);
}

TEST(QuestionnaireTest, SubscalesPartitioningTheItemsAreGroups) {
  json q = Q("wai-sr");
  ASSERT_EQ(q["item"].size(), 3u);
  const json& bond = q["item"][1];
  EXPECT_EQ(bond["linkId"], "subscale-bond");
  EXPECT_EQ(bond["type"], "group");
  EXPECT_EQ(bond["code"][0]["code"], "wai-sr.bond");
  std::vector<std::string> links;
  for (const json& item : bond["item"]) links.push_back(item["linkId"]);
  EXPECT_EQ(links, (std::vector<std::string>{"3", "5", "7", "9"}));
  EXPECT_TRUE(QuestionnaireUsesGroups(*Registry().Find("wai-sr")));
  EXPECT_FALSE(QuestionnaireUsesGroups(*Registry().Find("sai")));
}

TEST(QuestionnaireTest, OverlappingOrPartialSubscalesStayFlatAndNameTheirSubscales) {
  analytics::Instrument ins = *Registry().Find("wai-sr");
  ins.subscales.push_back({"all-bond", {3, 5, 7, 9}, "bond", std::nullopt});  // 3 in two
  EXPECT_FALSE(QuestionnaireUsesGroups(ins));
  json q = json::parse(QuestionnaireJson(ins));
  ASSERT_EQ(q["item"].size(), 12u);
  std::vector<std::string> subs;
  for (const json& e : q["item"][2]["extension"]) {
    if (e["url"] == kSubscaleExtension) subs.push_back(e["valueCode"]);
  }
  EXPECT_EQ(subs, (std::vector<std::string>{"bond", "all-bond"}));

  analytics::Instrument partial = *Registry().Find("wai-sr");
  partial.subscales.pop_back();  // goal items 4, 6, 8, 11 in no subscale
  EXPECT_FALSE(QuestionnaireUsesGroups(partial));
  json p = json::parse(QuestionnaireJson(partial));
  ASSERT_EQ(p["item"].size(), 12u);
  EXPECT_TRUE(Ext(p["item"][3], kSubscaleExtension).is_null());
}

TEST(QuestionnaireTest, BundleHoldsEveryInstrument) {
  json b = json::parse(QuestionnaireBundleJson(Registry()));
  EXPECT_EQ(b["resourceType"], "Bundle");
  EXPECT_EQ(b["type"], "searchset");
  EXPECT_EQ(b["total"], 5);
  std::vector<std::string> ids;
  for (const json& e : b["entry"]) {
    ids.push_back(e["resource"]["id"]);
    EXPECT_EQ(e["fullUrl"], e["resource"]["url"]);
    EXPECT_EQ(e["search"]["mode"], "match");
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"haq-ii", "sai", "srs", "wai-sr", "wai-sr-t"}));
}

TEST(QuestionnaireTest, CodeSystemHasTotalsSubscalesAndAlertKinds) {
  json cs = json::parse(CodeSystemJson(Registry()));
  EXPECT_EQ(cs["resourceType"], "CodeSystem");
  EXPECT_EQ(cs["url"], "https://alliance.health/fhir/CodeSystem/alliance");
  EXPECT_EQ(cs["status"], "active");
  EXPECT_EQ(cs["content"], "complete");
  std::set<std::string> codes;
  for (const json& c : cs["concept"]) codes.insert(c["code"].get<std::string>());
  EXPECT_EQ(cs["count"], codes.size());
  for (const char* code :
       {"wai-sr.total", "wai-sr.task", "wai-sr.bond", "wai-sr.goal", "wai-sr-t.bond", "srs.total",
        "srs.relationship", "srs.goals", "srs.approach", "srs.overall", "haq-ii.total", "sai.total",
        "rupture", "repaired", "unrepaired", "disengagement", "reengaged"}) {
    EXPECT_EQ(codes.count(code), 1u) << code;
  }
  EXPECT_EQ(codes.size(), 20u);
  EXPECT_EQ(CodeSystemJson(Registry()), CodeSystemJson(Registry()));
}

}  // namespace
}  // namespace alliance::fhir
