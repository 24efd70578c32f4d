// Therapist summaries kept by alliance-worker against a real redis-server: after a batch
// redelivered, a late (out-of-order) rating and an erasure, the per-partition sums of every
// therapist and tenant (and the therapist sets) equal an offline recompute of every stored
// dyad record (AnalyzeDyad, then analytics::ContributionFields, summed).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "analytics/dyad_analysis.h"
#include "analytics/registry.h"
#include "analytics/rules.h"
#include "analytics/therapist_summary.h"
#include "store/client_erasure.h"
#include "store/redis_executor.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test.h"
#include "tests/worker/worker_fixture.h"
#include "worker/dyad_update.h"

namespace alliance::testing {
namespace {

constexpr int kPartitions = 4;
using Fields = std::map<std::string, int64_t>;
using Dyad = std::tuple<std::string, std::string, std::string>;  // tenant, therapist, client

class SummaryTest : public RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    if (HasFatalFailure()) return;
    std::vector<std::string> args = WorkerArgs(server_.port(), kPartitions, "w-summary");
    args.push_back("--block_ms=50");
    ASSERT_TRUE(StartWorker(worker_, args, "summary").ok());
  }

  void Send(const std::vector<Submission>& subs) {
    ASSERT_TRUE(Feed(*redis_, layout_, subs).ok());
    absl::Status s = WaitForDrained(server_.endpoint(), layout_, absl::Seconds(60));
    ASSERT_TRUE(s.ok()) << s << "\n" << worker_.ReadLog();
    for (const Submission& sub : subs) dyads_.insert({sub.tenant, sub.therapist, sub.client});
  }

  Fields HashSum(const std::function<std::string(int)>& key) {
    Fields out;
    for (int p = 0; p < kPartitions; ++p) {
      auto reply = redis_->Command({"HGETALL", key(p)});
      EXPECT_TRUE(reply.ok());
      if (!reply.ok()) return out;
      const redisReply& r = **reply;
      for (size_t i = 0; i + 1 < r.elements; i += 2) {
        out[std::string(ReplyString(*r.element[i]))] +=
            std::stoll(std::string(ReplyString(*r.element[i + 1])));
      }
    }
    return out;
  }

  std::map<std::string, int64_t> Therapists(const std::string& tenant) {
    std::map<std::string, int64_t> out;
    for (int p = 0; p < kPartitions; ++p) {
      auto reply = redis_->Command(
          {"ZRANGE", layout_.SummaryTherapists(p, tenant), "0", "-1", "WITHSCORES"});
      EXPECT_TRUE(reply.ok());
      if (!reply.ok()) return out;
      const redisReply& r = **reply;
      for (size_t i = 0; i + 1 < r.elements; i += 2) {
        out[std::string(ReplyString(*r.element[i]))] +=
            std::stoll(std::string(ReplyString(*r.element[i + 1])));
      }
    }
    return out;
  }

  // The stored sums against the recompute; returns the stored sums, keyed "tenant" and
  // "tenant/therapist".
  std::map<std::string, Fields> ExpectMatchesRecompute() {
    std::map<std::string, Fields> want;
    std::map<std::string, std::map<std::string, int64_t>> want_therapists;
    for (const auto& [tenant, therapist, client] : dyads_) {
      auto record = ReadRecord(*redis_, layout_, tenant, therapist, client);
      if (record.status().code() == absl::StatusCode::kNotFound) continue;  // erased
      EXPECT_TRUE(record.ok()) << record.status();
      if (!record.ok()) continue;
      analytics::DyadAnalysis analysis =
          analytics::AnalyzeDyad(analytics::InstrumentRegistry::BuiltIn(), analytics::RuleConfig{},
                                 {tenant, therapist, client}, worker::RatingsOf(*record));
      for (const auto& [field, value] :
           analytics::ContributionFields(analytics::ContributionOf(analysis))) {
        want[tenant][field] += value;
        want[absl::StrCat(tenant, "/", therapist)][field] += value;
      }
      ++want_therapists[tenant][therapist];
    }
    for (auto& [key, fields] : want)
      std::erase_if(fields, [](const auto& f) { return f.second == 0; });
    std::map<std::string, Fields> got;
    std::set<std::string> tenants;
    for (const auto& d : dyads_) tenants.insert(std::get<0>(d));
    for (const std::string& tenant : tenants) {
      got[tenant] = HashSum([&](int p) { return layout_.TenantSummary(p, tenant); });
      std::map<std::string, int64_t> therapists = Therapists(tenant);
      EXPECT_EQ(therapists, want_therapists[tenant]) << tenant;
      std::set<std::string> named;
      for (const auto& d : dyads_) {
        if (std::get<0>(d) == tenant) named.insert(std::get<1>(d));
      }
      for (const std::string& th : named) {
        Fields f = HashSum([&](int p) { return layout_.TherapistSummary(p, tenant, th); });
        if (!f.empty()) got[absl::StrCat(tenant, "/", th)] = f;
      }
      if (got[tenant].empty()) got.erase(tenant);
    }
    EXPECT_EQ(got, want);
    return got;
  }

  KeyLayout layout_{kPartitions};
  ChildProcess worker_;
  std::set<Dyad> dyads_;
};

// Client SRS series for 9 dyads of 3 therapists in 2 tenants, the therapist's WAI-SR-T
// alongside in every other dyad (for the gap).
std::vector<Submission> Caseloads(std::mt19937& rng) {
  std::vector<Submission> subs;
  for (int d = 0; d < 9; ++d) {
    const std::string tenant = d < 6 ? "clinic-s" : "clinic-t";
    const std::string therapist = absl::StrCat("th-", d % 3);
    const std::string client = absl::StrCat("cl-", d);
    std::vector<Submission> series = ClientSeries(tenant, therapist, client, "srs", 10, rng);
    subs.insert(subs.end(), series.begin(), series.end());
    if (d % 2 == 0) {
      for (int s = 1; s <= 10; ++s) {
        subs.push_back({tenant, therapist, client, absl::StrCat("t-", client, "-", s), "wai-sr-t",
                        s, 2, AnswersAt("wai-sr-t", 70 - 2 * s, 3, rng)});
      }
    }
  }
  return subs;
}

TEST_F(SummaryTest, SumsEqualARecomputeAfterRedeliveryLateRatingsAndErasure) {
  std::mt19937 rng(23);
  std::vector<Submission> subs = Caseloads(rng);
  // Session 4 of cl-0 arrives last (late: the series is already at session 10).
  std::vector<Submission> early, late, held;
  for (const Submission& s : subs) {
    if (s.client == "cl-0" && s.session_number == 4) {
      held.push_back(s);
    } else {
      (s.session_number <= 5 ? early : late).push_back(s);
    }
  }
  Send(early);
  ExpectMatchesRecompute();
  Send(late);
  ExpectMatchesRecompute();
  Send(held);
  std::map<std::string, Fields> after_late = ExpectMatchesRecompute();
  ASSERT_TRUE(after_late.count("clinic-s/th-0"));
  EXPECT_EQ(after_late["clinic-s/th-0"]["dyads"], 2);
  EXPECT_GT(after_late["clinic-s/th-0"]["gap_n"], 0);

  // Redelivery: the group rewound, every applied entry delivered again; and the same
  // submissions appended again (an intake retry). The sums do not move.
  for (int p = 0; p < kPartitions; ++p) {
    auto r =
        redis_->Command({"XGROUP", "SETID", layout_.FeedbackStream(p), "alliance-worker", "0"});
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(ReplyStatus(**r).ok());
  }
  Send({});
  EXPECT_EQ(ExpectMatchesRecompute(), after_late);
  Send(subs);
  EXPECT_EQ(ExpectMatchesRecompute(), after_late);

  // Erasure: cl-0 (th-0 of clinic-s) leaves the sums; cl-6 is th-0's only client in clinic-t,
  // so th-0 leaves clinic-t's therapist set.
  ConnectionExecutor executor(*redis_);
  ASSERT_TRUE(EraseClientData(executor, layout_, "clinic-s", "cl-0").ok());
  ASSERT_TRUE(EraseClientData(executor, layout_, "clinic-t", "cl-6").ok());
  std::map<std::string, Fields> erased = ExpectMatchesRecompute();
  EXPECT_EQ(erased["clinic-s/th-0"]["dyads"], 1);
  EXPECT_EQ(erased.count("clinic-t/th-0"), 0u);
  EXPECT_EQ(Therapists("clinic-t").count("th-0"), 0u);
  for (int p = 0; p < kPartitions; ++p) {
    auto exists = redis_->Command({"EXISTS", layout_.DyadSummary(p, "clinic-s", "th-0", "cl-0")});
    ASSERT_TRUE(exists.ok());
    EXPECT_EQ((*exists)->integer, 0);
  }
}

}  // namespace
}  // namespace alliance::testing
