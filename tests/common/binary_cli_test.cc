// What every deployable answers to --help and --version: its own flags with their environment
// variables and exit 0; the project version and the source revision it was built from, also in
// the start-up log line and the alliance_build_info metric.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/build_info.h"
#include "common/metrics.h"
#include "common/strings.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"

namespace alliance {
namespace {

struct Outcome {
  int exit_code = -1;
  std::string output;
};

Outcome RunBinary(const std::string& name, const std::vector<std::string>& args) {
  const std::string log =
      absl::StrCat(::testing::TempDir(), "/", name, "-", args.empty() ? "" : args[0], ".log");
  testing::ChildProcess child;
  Outcome run;
  if (absl::Status s = child.Start(testing::BinaryPath(name), args, log); !s.ok()) {
    ADD_FAILURE() << s;
    return run;
  }
  std::optional<int> code = child.Wait(absl::Seconds(20));
  run.exit_code = code.value_or(-1);
  run.output = child.ReadLog();
  return run;
}

class BinaryCliTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BinaryCliTest, HelpListsTheBinarysOwnFlagsWithTheirEnvironmentVariablesAndExitsZero) {
  const Outcome run = RunBinary(GetParam(), {"--help"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_FALSE(absl::StrContains(run.output, "No flags matched")) << run.output;
  // A flag of the binary's own, with its environment variable.
  const std::string own_flag = GetParam() == "alliancectl"
                                   ? "--api_key_file (ALLIANCE_API_KEY_FILE)"
                                   : "--redis_host (ALLIANCE_REDIS_HOST)";
  EXPECT_TRUE(absl::StrContains(run.output, own_flag)) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "--version")) << run.output;
}

TEST_P(BinaryCliTest, VersionNamesTheProjectVersionAndTheSourceRevision) {
  const Outcome run = RunBinary(GetParam(), {"--version"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(absl::StartsWith(
      run.output, absl::StrCat(GetParam(), " ", Absl(AllianceVersion()), " (revision ")))
      << run.output;
  EXPECT_FALSE(absl::StrContains(run.output, "Debug build")) << run.output;
}

INSTANTIATE_TEST_SUITE_P(Deployables, BinaryCliTest,
                         ::testing::Values("alliance-intake", "alliance-insights",
                                           "alliance-worker", "alliancectl"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = (c == '-') ? '_' : c;
                           return name;
                         });

TEST(BuildInfoTest, TheVersionIsTheProjectsAndTheRevisionIsKnownInAGitCheckout) {
  EXPECT_EQ(Absl(AllianceVersion()), ALLIANCE_EXPECTED_VERSION);
  EXPECT_FALSE(SourceRevision().empty());
  EXPECT_EQ(VersionLine("alliance-worker"),
            absl::StrCat("alliance-worker ", Absl(AllianceVersion()), " (revision ",
                         Absl(SourceRevision()), ")"));
}

TEST(BuildInfoTest, EveryMetricsRegistryExportsBuildInfo) {
  MetricsRegistry registry;
  EXPECT_TRUE(absl::StrContains(
      registry.Render(), absl::StrCat("alliance_build_info{revision=\"", Absl(SourceRevision()),
                                      "\",version=\"", Absl(AllianceVersion()), "\"} 1")))
      << registry.Render();
}

}  // namespace
}  // namespace alliance
