// Authentication, scopes and tenant isolation of both gRPC services, against the real binaries
// with a real key file: for every RPC, no key or an unknown key -> UNAUTHENTICATED; another
// tenant's key -> never the data (PERMISSION_DENIED when it names the tenant, NOT_FOUND or
// nothing when it names none); a key without the RPC's scope -> PERMISSION_DENIED.
#include <functional>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "services/insights/tokens.h"
#include "store/stream_id.h"
#include "tests/services/insights/insights_fixture.h"
#include "tests/services/intake/intake_fixture.h"
#include "tests/support/api_keys.h"

namespace alliance::testing {
namespace {

constexpr char kReadA[] = "key-read-clinic-a-0001";
constexpr char kWatchA[] = "key-watch-clinic-a-0002";
constexpr char kSubmitA[] = "key-submit-clinic-a-0003";
constexpr char kAdminA[] = "key-admin-clinic-a-0004";
constexpr char kAllB[] = "key-all-clinic-b-0005";

// What one call returned: its status and how many items of data it carried.
struct Outcome {
  grpc::StatusCode code;
  int items = 0;
};

class AuthTest : public InsightsFixture {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    return {absl::StrCat("--api_keys_file=", KeyFile())};
  }
  std::string KeyFile() const {
    std::string path = absl::StrCat(redis_.dir(), "/api-keys.json");
    EXPECT_TRUE(
        WriteApiKeyFile(path, {{"read-a", kReadA, "clinic-a", {"read"}},
                               {"watch-a", kWatchA, "clinic-a", {"watch"}},
                               {"submit-a", kSubmitA, "clinic-a", {"submit"}},
                               {"admin-a", kAdminA, "clinic-a", {"admin"}},
                               {"all-b", kAllB, "clinic-b", {"submit", "read", "watch", "admin"}}})
            .ok());
    return path;
  }

  void SetUp() override {
    InsightsFixture::SetUp();
    // c2 is the client DeleteClientData is called for.
    WriteDyads({MakeDyad("clinic-a", "t1", "c1"), MakeDyad("clinic-a", "t1", "c2"),
                MakeDyad("clinic-b", "t1", "c9")});
    alert_a_ = MakeAlert("clinic-a", "t1", "c1", 1);
    AppendAlerts({alert_a_});
    stub_ = NewStub();
  }

  grpc::ClientContext* Context(const std::string& key) {
    contexts_.push_back(std::make_unique<grpc::ClientContext>());
    grpc::ClientContext* context = contexts_.back().get();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    UseKey(*context, key);
    return context;
  }

  // Every read-side RPC, called with `key` for `tenant` about clinic-a's dyad and alert.
  std::map<std::string, std::function<Outcome(const std::string&, const std::string&)>> Rpcs() {
    std::map<std::string, std::function<Outcome(const std::string&, const std::string&)>> rpcs;
    rpcs["GetDyad"] = [this](const std::string& key, const std::string& tenant) {
      v1::GetDyadRequest r;
      r.set_tenant_id(tenant);
      r.set_therapist_id("t1");
      r.set_client_id("c1");
      v1::GetDyadResponse out;
      grpc::Status s = stub_->GetDyad(Context(key), r, &out);
      return Outcome{s.error_code(), out.has_dyad() ? 1 : 0};
    };
    rpcs["ListDyads"] = [this](const std::string& key, const std::string& tenant) {
      v1::ListDyadsRequest r;
      r.set_tenant_id(tenant);
      v1::ListDyadsResponse out;
      grpc::Status s = stub_->ListDyads(Context(key), r, &out);
      int a_items = 0;
      for (const auto& d : out.dyads()) {
        a_items += d.tenant_id() == "clinic-a" && d.client_id() == "c1" ? 1 : 0;
      }
      return Outcome{s.error_code(), a_items};
    };
    rpcs["GetDyadTimeline"] = [this](const std::string& key, const std::string& tenant) {
      v1::GetDyadTimelineRequest r;
      r.set_tenant_id(tenant);
      r.set_therapist_id("t1");
      r.set_client_id("c1");
      v1::GetDyadTimelineResponse out;
      grpc::Status s = stub_->GetDyadTimeline(Context(key), r, &out);
      return Outcome{s.error_code(), s.ok() ? 1 : 0};
    };
    rpcs["ListAlerts"] = [this](const std::string& key, const std::string& tenant) {
      v1::ListAlertsRequest r;
      r.set_tenant_id(tenant);
      v1::ListAlertsResponse out;
      grpc::Status s = stub_->ListAlerts(Context(key), r, &out);
      int a_items = 0;
      for (const auto& a : out.alerts()) a_items += a.tenant_id() == "clinic-a" ? 1 : 0;
      return Outcome{s.error_code(), a_items};
    };
    rpcs["AcknowledgeAlert"] = [this](const std::string& key, const std::string& tenant) {
      v1::AcknowledgeAlertRequest r;
      r.set_tenant_id(tenant);
      r.set_alert_id(alert_a_.alert_id());
      r.set_actor("nurse-1");
      v1::AcknowledgeAlertResponse out;
      grpc::Status s = stub_->AcknowledgeAlert(Context(key), r, &out);
      return Outcome{s.error_code(), out.has_alert() ? 1 : 0};
    };
    rpcs["ResolveAlert"] = [this](const std::string& key, const std::string& tenant) {
      v1::ResolveAlertRequest r;
      r.set_tenant_id(tenant);
      r.set_alert_id(alert_a_.alert_id());
      r.set_actor("nurse-1");
      v1::ResolveAlertResponse out;
      grpc::Status s = stub_->ResolveAlert(Context(key), r, &out);
      return Outcome{s.error_code(), out.has_alert() ? 1 : 0};
    };
    rpcs["WatchAlerts"] = [this](const std::string& key, const std::string& tenant) {
      // From the beginning of every alert stream, so clinic-a's alert would be replayed.
      v1::WatchAlertsRequest r;
      r.set_tenant_id(tenant);
      r.set_cursor(insights::EncodeWatchCursor(Positions(kPartitions)));
      grpc::ClientContext* context = Context(key);
      auto reader = stub_->WatchAlerts(context, r);
      v1::WatchAlertsResponse message;
      int items = 0;
      bool alive = ReadAlert(reader.get(), &message);
      if (alive) {
        items = message.alert().tenant_id() == "clinic-a" ? 1 : 0;
        context->TryCancel();
      }
      grpc::Status s = reader->Finish();
      return Outcome{alive ? grpc::OK : s.error_code(), items};
    };
    rpcs["DeleteClientData"] = [this](const std::string& key, const std::string& tenant) {
      v1::DeleteClientDataRequest r;
      r.set_tenant_id(tenant);
      r.set_client_id("c2");
      v1::DeleteClientDataResponse out;
      grpc::Status s = stub_->DeleteClientData(Context(key), r, &out);
      return Outcome{s.error_code(), out.dyad_states() > 0 ? 1 : 0};
    };
    return rpcs;
  }

  v1::Alert alert_a_;
  std::unique_ptr<v1::AllianceInsights::Stub> stub_;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts_;
};

TEST_F(AuthTest, EveryInsightsRpcWithoutAKnownKeyIsUnauthenticated) {
  for (auto& [name, call] : Rpcs()) {
    for (const std::string key : {"", "not-a-key-at-all-000"}) {
      for (const std::string tenant : {"", "clinic-a"}) {
        Outcome o = call(key, tenant);
        EXPECT_EQ(o.code, grpc::UNAUTHENTICATED) << name << " key='" << key << "' " << tenant;
        EXPECT_EQ(o.items, 0) << name;
      }
    }
  }
}

// Authentication and authorization come before validation on every RPC: a request that is
// invalid in every way tells a caller without a (fitting) key nothing but that.
TEST_F(AuthTest, InvalidRequestsLearnNothingButTheAuthOutcome) {
  std::map<std::string, std::function<grpc::StatusCode(const std::string&)>> invalid;
  invalid["GetDyad"] = [this](const std::string& key) {
    v1::GetDyadRequest r;
    r.set_therapist_id("bad id");
    v1::GetDyadResponse out;
    return stub_->GetDyad(Context(key), r, &out).error_code();
  };
  invalid["ListDyads"] = [this](const std::string& key) {
    v1::ListDyadsRequest r;
    r.set_page_size(-1);
    r.set_page_token("not a token");
    v1::ListDyadsResponse out;
    return stub_->ListDyads(Context(key), r, &out).error_code();
  };
  invalid["GetDyadTimeline"] = [this](const std::string& key) {
    v1::GetDyadTimelineRequest r;
    v1::GetDyadTimelineResponse out;
    return stub_->GetDyadTimeline(Context(key), r, &out).error_code();
  };
  invalid["ListAlerts"] = [this](const std::string& key) {
    v1::ListAlertsRequest r;
    r.add_kinds(static_cast<v1::AlertKind>(999));
    r.set_page_token("not a token");
    v1::ListAlertsResponse out;
    return stub_->ListAlerts(Context(key), r, &out).error_code();
  };
  invalid["AcknowledgeAlert"] = [this](const std::string& key) {
    v1::AcknowledgeAlertRequest r;
    v1::AcknowledgeAlertResponse out;
    return stub_->AcknowledgeAlert(Context(key), r, &out).error_code();
  };
  invalid["ResolveAlert"] = [this](const std::string& key) {
    v1::ResolveAlertRequest r;
    r.set_alert_id("bad id");
    v1::ResolveAlertResponse out;
    return stub_->ResolveAlert(Context(key), r, &out).error_code();
  };
  invalid["WatchAlerts"] = [this](const std::string& key) {
    v1::WatchAlertsRequest r;
    r.add_kinds(static_cast<v1::AlertKind>(999));
    r.set_cursor("not a cursor");
    auto reader = stub_->WatchAlerts(Context(key), r);
    v1::WatchAlertsResponse message;
    while (reader->Read(&message)) {
    }
    return reader->Finish().error_code();
  };
  invalid["DeleteClientData"] = [this](const std::string& key) {
    v1::DeleteClientDataRequest r;
    v1::DeleteClientDataResponse out;
    return stub_->DeleteClientData(Context(key), r, &out).error_code();
  };
  std::map<std::string, std::string> needs = {
      {"GetDyad", kReadA},      {"ListDyads", kReadA},        {"GetDyadTimeline", kReadA},
      {"ListAlerts", kReadA},   {"AcknowledgeAlert", kReadA}, {"ResolveAlert", kReadA},
      {"WatchAlerts", kWatchA}, {"DeleteClientData", kAdminA}};
  ASSERT_EQ(invalid.size(), needs.size());
  for (auto& [name, call] : invalid) {
    EXPECT_EQ(call(""), grpc::UNAUTHENTICATED) << name;
    EXPECT_EQ(call("not-a-key-at-all-000"), grpc::UNAUTHENTICATED) << name;
    EXPECT_EQ(call(needs[name] == kReadA ? kWatchA : kReadA), grpc::PERMISSION_DENIED) << name;
    EXPECT_EQ(call(needs[name]), grpc::INVALID_ARGUMENT) << name << ": the right key";
  }
}

TEST_F(AuthTest, AnotherTenantsKeyNeverGetsTheData) {
  // clinic-b has an alert too, so its watcher replaying every stream from the start gets an
  // alert (its own) instead of waiting: clinic-a's, replayed first, must be skipped.
  AppendAlerts({MakeAlert("clinic-b", "t1", "c9", 2)});
  for (auto& [name, call] : Rpcs()) {
    Outcome named = call(kAllB, "clinic-a");
    EXPECT_EQ(named.code, grpc::PERMISSION_DENIED) << name;
    EXPECT_EQ(named.items, 0) << name;
    Outcome own = call(kAllB, "");
    EXPECT_TRUE(own.code == grpc::NOT_FOUND || own.code == grpc::OK) << name << " " << own.code;
    EXPECT_EQ(own.items, 0) << name << " returned clinic-a data to clinic-b";
  }
}

TEST_F(AuthTest, ScopesAreEnforced) {
  std::map<std::string, std::string> needs = {
      {"GetDyad", kReadA},      {"ListDyads", kReadA},        {"GetDyadTimeline", kReadA},
      {"ListAlerts", kReadA},   {"AcknowledgeAlert", kReadA}, {"ResolveAlert", kReadA},
      {"WatchAlerts", kWatchA}, {"DeleteClientData", kAdminA}};
  for (auto& [name, call] : Rpcs()) {
    for (const char* key : {kReadA, kWatchA, kSubmitA, kAdminA}) {
      if (key == needs[name]) continue;
      Outcome o = call(key, "");
      EXPECT_EQ(o.code, grpc::PERMISSION_DENIED) << name << " with " << key;
      EXPECT_EQ(o.items, 0) << name;
    }
    Outcome ok = call(needs[name], "");
    EXPECT_EQ(ok.code, grpc::OK) << name << ": the right key, the key's own tenant";
    EXPECT_EQ(ok.items, 1) << name;
    EXPECT_EQ(call(needs[name], "clinic-a").code, grpc::OK) << name << ": naming its own tenant";
  }
}

// The access log names who read which dyad and alert (scores never: see log_scan_test).
TEST_F(AuthTest, ReadsAreInTheAccessLog) {
  auto rpcs = Rpcs();
  ASSERT_EQ(rpcs["GetDyad"](kReadA, "").code, grpc::OK);
  ASSERT_EQ(rpcs["ListAlerts"](kReadA, "").code, grpc::OK);
  // One line per read, naming who, which tenant, which RPC and which ids.
  auto logged = [this](std::vector<std::string> fragments) {
    std::istringstream lines(service_.ReadLog());
    std::string line;
    while (std::getline(lines, line)) {
      bool all = true;
      for (const std::string& f : fragments) all = all && line.find(f) != std::string::npos;
      if (all) return true;
    }
    return false;
  };
  EXPECT_TRUE(logged({R"("event":"access")", R"("method":"GetDyad")", R"("key_id":"read-a")",
                      R"("tenant":"clinic-a")", R"("dyads":"t1:c1")"}))
      << service_.ReadLog();
  EXPECT_TRUE(logged({R"("event":"access")", R"("method":"ListAlerts")", R"("key_id":"read-a")",
                      absl::StrCat(R"("alerts":")", alert_a_.alert_id(), R"(")")}))
      << service_.ReadLog();
}

// Intake: every submission RPC is authorized before anything is queued.
class IntakeAuthTest : public AuthTest {
 protected:
  void SetUp() override {
    AuthTest::SetUp();
    ASSERT_TRUE(intake_
                    .Start(redis_.port(), {absl::StrCat("--api_keys_file=", KeyFile()),
                                           absl::StrCat("--partitions=", kPartitions)})
                    .ok())
        << intake_.Log();
  }
  grpc::StatusCode SubmitOne(const std::string& key, const std::string& tenant,
                             const std::string& idempotency_id) {
    v1::SubmitFeedbackRequest r;
    *r.mutable_feedback() = ValidFeedback(idempotency_id);
    r.mutable_feedback()->set_tenant_id(tenant);
    v1::SubmitFeedbackResponse out;
    return intake_.stub().SubmitFeedback(Context(key), r, &out).error_code();
  }
  // Status of the call, and the item codes.
  std::pair<grpc::StatusCode, std::vector<int>> SubmitBatch(const std::string& key,
                                                            const std::string& tenant,
                                                            const std::string& idempotency_id) {
    v1::SubmitFeedbackBatchRequest r;
    *r.add_feedback() = ValidFeedback(idempotency_id);
    r.mutable_feedback(0)->set_tenant_id(tenant);
    v1::SubmitFeedbackBatchResponse out;
    grpc::Status s = intake_.stub().SubmitFeedbackBatch(Context(key), r, &out);
    std::vector<int> codes;
    for (const auto& item : out.results()) codes.push_back(item.code());
    return {s.error_code(), codes};
  }
  int64_t Entries() { return TotalFeedbackEntries(*conn_, layout_); }

  IntakeProcess intake_;
};

TEST_F(IntakeAuthTest, SubmitNeedsAKnownKeyWithTheSubmitScopeForItsOwnTenant) {
  for (const std::string key : {"", "not-a-key-at-all-000"}) {
    EXPECT_EQ(SubmitOne(key, "clinic-a", "i-1"), grpc::UNAUTHENTICATED);
    EXPECT_EQ(SubmitBatch(key, "clinic-a", "i-1").first, grpc::UNAUTHENTICATED);
  }
  for (const char* key : {kReadA, kWatchA, kAdminA}) {
    EXPECT_EQ(SubmitOne(key, "clinic-a", "i-2"), grpc::PERMISSION_DENIED) << key;
    EXPECT_EQ(SubmitBatch(key, "clinic-a", "i-2").first, grpc::PERMISSION_DENIED) << key;
  }
  EXPECT_EQ(SubmitOne(kAllB, "clinic-a", "i-3"), grpc::PERMISSION_DENIED);
  auto [status, codes] = SubmitBatch(kAllB, "clinic-a", "i-3");
  EXPECT_EQ(status, grpc::OK);
  EXPECT_EQ(codes, std::vector<int>{grpc::PERMISSION_DENIED});
  EXPECT_EQ(Entries(), 0) << "a refused submission was written";

  EXPECT_EQ(SubmitOne(kSubmitA, "clinic-a", "i-4"), grpc::OK);
  EXPECT_EQ(SubmitOne(kSubmitA, "", "i-5"), grpc::OK) << "empty tenant: the key's";
  EXPECT_EQ(SubmitBatch(kSubmitA, "", "i-6").second, std::vector<int>{0});
  EXPECT_EQ(Entries(), 3);
  // The empty-tenant submissions were stored as clinic-a's.
  for (const char* id : {"i-5", "i-6"}) {
    int p = layout_.PartitionOf("clinic-a", "therapist-7", "client-1");
    auto reply = conn_->Command({"EXISTS", layout_.Idempotency(p, "clinic-a", id)});
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ((*reply)->integer, 1) << id;
  }
}

}  // namespace
}  // namespace alliance::testing
