// AllianceInsights.ListInstruments against the real alliance-insights binary with
// authentication on and an --instruments_dir: every instrument of the registry the service
// loads (built-ins plus the operator's file) is listed with the values of its definition, and
// the call needs a key with the "read" scope.
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "analytics/registry.h"
#include "tests/services/insights/insights_fixture.h"
#include "tests/support/api_keys.h"

namespace alliance::testing {
namespace {

constexpr char kReadKey[] = "instruments-read-key-5b1f9c0e27";
constexpr char kWatchKey[] = "instruments-watch-key-83d6a4f1c9";

// An operator's instrument, using every optional field the built-ins leave out (subscale
// cutoff, "at_or_below", several raters with the observer, reverse items with subscales).
constexpr char kExtraJson[] = R"json({
  "id": "zz-local-form",
  "name": "Local alliance check (test)",
  "references": "Written for this test.",
  "raters": ["client", "observer"],
  "item_count": 6,
  "item_min": 1,
  "item_max": 7,
  "step": 0.5,
  "reverse_items": [2, 5],
  "subscales": [
    {"name": "bond", "items": [1, 2, 3], "factor": "bond",
     "cutoff": {"value": 9, "direction": "at_or_below"}},
    {"name": "work", "items": [4, 5, 6], "factor": "task"}
  ],
  "total_cutoff": {"value": 24, "direction": "at_or_below"},
  "item_check_below": 3,
  "population_sd": 6.5,
  "reliability": 0.85,
  "check": ["reliability", "total_cutoff"]
})json";

class InstrumentsTest : public InsightsFixture {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    const std::string dir = absl::StrCat(redis_.dir(), "/instruments");
    std::filesystem::create_directories(dir);
    std::ofstream(absl::StrCat(dir, "/local.json")) << kExtraJson;
    const std::string keys = absl::StrCat(redis_.dir(), "/api-keys.json");
    EXPECT_TRUE(WriteApiKeyFile(keys, {{"reader", kReadKey, "clinic-a", {"read"}},
                                       {"watcher", kWatchKey, "clinic-a", {"watch"}}})
                    .ok());
    return {absl::StrCat("--api_keys_file=", keys), absl::StrCat("--instruments_dir=", dir)};
  }

  grpc::Status List(const std::string& key, alliance::v1::ListInstrumentsResponse* response) {
    grpc::ClientContext context;
    UseKey(context, key);
    return NewStub()->ListInstruments(&context, alliance::v1::ListInstrumentsRequest(), response);
  }

  double Calls(const std::string& code) const {
    // Prometheus writes labels in name order.
    return Metric(absl::StrCat("alliance_insights_requests_total{code=\"", code,
                               "\",method=\"ListInstruments\"}"));
  }
};

void ExpectCutoff(const std::optional<analytics::Cutoff>& want, bool has,
                  const alliance::v1::Cutoff& got, const std::string& where) {
  ASSERT_EQ(has, want.has_value()) << where;
  if (!want) return;
  EXPECT_EQ(got.value(), want->value) << where;
  EXPECT_EQ(got.direction(), want->direction == analytics::CutoffDirection::kAtOrBelow
                                 ? alliance::v1::CUTOFF_DIRECTION_AT_OR_BELOW
                                 : alliance::v1::CUTOFF_DIRECTION_BELOW)
      << where;
}

// Field by field against the definition the analytics library parsed from the same JSON.
void ExpectMatches(const analytics::Instrument& want, const alliance::v1::Instrument& got) {
  const std::string& id = want.id;
  EXPECT_EQ(got.name(), want.name) << id;
  ASSERT_EQ(got.raters_size(), static_cast<int>(want.raters.size())) << id;
  for (size_t i = 0; i < want.raters.size(); ++i) {
    EXPECT_EQ(static_cast<int>(got.raters(static_cast<int>(i))), static_cast<int>(want.raters[i]))
        << id;
  }
  EXPECT_EQ(got.item_count(), want.item_count) << id;
  EXPECT_EQ(got.item_min(), want.item_min) << id;
  EXPECT_EQ(got.item_max(), want.item_max) << id;
  EXPECT_EQ(got.step(), want.step) << id;
  EXPECT_EQ(std::vector<int>(got.reverse_items().begin(), got.reverse_items().end()),
            want.reverse_items)
      << id;
  ASSERT_EQ(got.subscales_size(), static_cast<int>(want.subscales.size())) << id;
  for (size_t i = 0; i < want.subscales.size(); ++i) {
    const alliance::v1::InstrumentSubscale& s = got.subscales(static_cast<int>(i));
    const analytics::Subscale& w = want.subscales[i];
    EXPECT_EQ(s.name(), w.name) << id;
    EXPECT_EQ(std::vector<int>(s.items().begin(), s.items().end()), w.items) << id;
    EXPECT_EQ(s.factor(), w.factor) << id;
    ExpectCutoff(w.cutoff, s.has_cutoff(), s.cutoff(), absl::StrCat(id, " ", w.name));
  }
  ExpectCutoff(want.total_cutoff, got.has_total_cutoff(), got.total_cutoff(), id);
  EXPECT_EQ(got.total_min(), want.TotalMin()) << id;
  EXPECT_EQ(got.total_max(), want.TotalMax()) << id;
  EXPECT_EQ(got.population_sd(), want.population_sd) << id;
  EXPECT_EQ(got.reliability(), want.reliability) << id;
  ASSERT_EQ(got.has_item_check_below(), want.item_check_below.has_value()) << id;
  if (want.item_check_below) {
    EXPECT_EQ(got.item_check_below(), *want.item_check_below) << id;
  }
  EXPECT_EQ(std::vector<std::string>(got.check_fields().begin(), got.check_fields().end()),
            want.check_fields)
      << id;
  EXPECT_EQ(got.references(), want.references) << id;
}

TEST_F(InstrumentsTest, ListsEveryInstrumentOfTheRegistryWithItsDefinition) {
  // The series exists before the first call.
  EXPECT_EQ(Calls("OK"), 0);
  alliance::v1::ListInstrumentsResponse response;
  grpc::Status status = List(kReadKey, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Calls("OK"), 1);

  absl::StatusOr<analytics::InstrumentRegistry> registry =
      analytics::InstrumentRegistry::WithExtra({{"local.json", kExtraJson}});
  ASSERT_TRUE(registry.ok()) << registry.status();
  std::vector<std::string> listed;
  for (const alliance::v1::Instrument& instrument : response.instruments()) {
    listed.push_back(instrument.id());
  }
  EXPECT_EQ(listed, registry->Ids());  // every one, ordered by id
  EXPECT_EQ(listed.size(), analytics::InstrumentRegistry::BuiltIn().Ids().size() + 1);
  for (const alliance::v1::Instrument& instrument : response.instruments()) {
    const analytics::Instrument* want = registry->Find(instrument.id());
    ASSERT_NE(want, nullptr) << instrument.id();
    ExpectMatches(*want, instrument);
  }

  // Checked by hand against analytics/instruments/srs.json and the file above.
  std::map<std::string, alliance::v1::Instrument> by_id;
  for (const alliance::v1::Instrument& instrument : response.instruments()) {
    by_id[instrument.id()] = instrument;
  }
  ASSERT_TRUE(by_id.contains("srs"));
  const alliance::v1::Instrument& srs = by_id["srs"];
  EXPECT_EQ(srs.item_count(), 4);
  EXPECT_EQ(srs.item_min(), 0);
  EXPECT_EQ(srs.item_max(), 10);
  EXPECT_DOUBLE_EQ(srs.step(), 0.1);
  EXPECT_EQ(srs.total_max(), 40);
  ASSERT_EQ(srs.raters_size(), 1);
  EXPECT_EQ(srs.raters(0), alliance::v1::RATER_CLIENT);
  EXPECT_EQ(srs.total_cutoff().value(), 36);
  EXPECT_EQ(srs.total_cutoff().direction(), alliance::v1::CUTOFF_DIRECTION_BELOW);
  ASSERT_EQ(srs.subscales_size(), 4);
  EXPECT_EQ(srs.subscales(0).name(), "relationship");
  EXPECT_EQ(srs.item_check_below(), 9);
  ASSERT_TRUE(by_id.contains("haq-ii"));
  EXPECT_EQ(std::vector<int>(by_id["haq-ii"].reverse_items().begin(),
                             by_id["haq-ii"].reverse_items().end()),
            (std::vector<int>{4, 8, 11, 16, 19}));
  EXPECT_FALSE(by_id["haq-ii"].has_item_check_below());

  ASSERT_TRUE(by_id.contains("zz-local-form"));
  const alliance::v1::Instrument& local = by_id["zz-local-form"];
  ASSERT_EQ(local.raters_size(), 2);
  EXPECT_EQ(local.raters(1), alliance::v1::RATER_OBSERVER);
  EXPECT_EQ(local.step(), 0.5);
  EXPECT_EQ(local.subscales(0).cutoff().value(), 9);
  EXPECT_EQ(local.subscales(0).cutoff().direction(), alliance::v1::CUTOFF_DIRECTION_AT_OR_BELOW);
  EXPECT_FALSE(local.subscales(1).has_cutoff());
  EXPECT_EQ(local.total_min(), 6);
  EXPECT_EQ(local.total_max(), 42);
}

TEST_F(InstrumentsTest, NeedsAKeyWithTheReadScope) {
  alliance::v1::ListInstrumentsResponse response;
  grpc::Status status = List(kWatchKey, &response);
  EXPECT_EQ(status.error_code(), grpc::PERMISSION_DENIED);
  EXPECT_NE(status.error_message().find("\"read\""), std::string::npos) << status.error_message();
  EXPECT_EQ(response.instruments_size(), 0);

  status = List("", &response);
  EXPECT_EQ(status.error_code(), grpc::UNAUTHENTICATED);
  status = List("not-a-known-key-0000000000", &response);
  EXPECT_EQ(status.error_code(), grpc::UNAUTHENTICATED);
  EXPECT_EQ(response.instruments_size(), 0);
  EXPECT_EQ(Calls("PERMISSION_DENIED"), 1);
  EXPECT_EQ(Calls("UNAUTHENTICATED"), 2);
  EXPECT_EQ(Calls("OK"), 0);
}

}  // namespace
}  // namespace alliance::testing
