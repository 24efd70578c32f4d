// Round-trip and compatibility tests of the stream entry and record codecs, against a real
// redis-server where the writer is a Lua script: what each script writes, the codec reads
// back; entries of another version or with missing fields are refused (never a crash), and a
// committed version-1 entry still decodes.
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "alliance/internal/v1/records.pb.h"
#include "gtest/gtest.h"
#include "store/alert_entry.h"
#include "store/dead_letter.h"
#include "store/feedback_entry.h"
#include "store/idempotency_record.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/stream_entry.h"
#include "tests/support/redis_test.h"

namespace alliance {
namespace {

alliance::v1::Feedback SrsFeedback() {
  alliance::v1::Feedback f;
  f.set_tenant_id("clinic-a");
  f.set_idempotency_id("idem-1");
  f.set_therapist_id("t1");
  f.set_client_id("c1");
  f.set_session_number(4);
  f.mutable_session_time()->set_seconds(1'764'000'000);
  f.set_rater(alliance::v1::RATER_CLIENT);
  f.set_instrument_id("srs");
  for (int item = 1; item <= 4; ++item) {
    auto* a = f.add_answers();
    a->set_item(item);
    a->set_value(5.5 + item);
  }
  return f;
}

class CodecsTest : public testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    ASSERT_TRUE(shas_.Load(*redis_).ok());
  }

  RedisReplyPtr Run(const std::vector<std::string_view>& args) {
    auto reply = redis_->Command(args);
    EXPECT_TRUE(reply.ok()) << reply.status();
    EXPECT_NE((*reply)->type, REDIS_REPLY_ERROR) << ReplyString(**reply);
    return *std::move(reply);
  }
  RedisReplyPtr Eval(Script script, const std::vector<std::string>& keys,
                     const std::vector<std::string>& args) {
    shas_.AppendStrings(*redis_, script, keys, args);
    auto reply = redis_->GetReply();
    EXPECT_TRUE(reply.ok()) << reply.status();
    EXPECT_NE((*reply)->type, REDIS_REPLY_ERROR) << ReplyString(**reply);
    return *std::move(reply);
  }
  std::vector<StreamEntry> Entries(const std::string& stream) {
    RedisReplyPtr reply = Run({"XRANGE", stream, "-", "+"});
    auto entries = ParseEntries(*reply);
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.value_or(std::vector<StreamEntry>{});
  }
  // Appends one submission through append_feedback.lua, as intake does.
  std::string AppendFeedback(const alliance::v1::Feedback& f, const std::string& accepted_id) {
    std::string bytes;
    EncodeFeedbackEntry(f, accepted_id, absl::FromUnixSeconds(1'764'000'100), &bytes);
    RedisReplyPtr reply =
        Eval(Script::kAppendFeedback, {idem_key_, layout_.FeedbackStream(0)},
             {"60000", std::string(kEntryVersion), "hash-1", accepted_id, f.tenant_id(), bytes});
    EXPECT_EQ(reply->type, REDIS_REPLY_ARRAY);
    return reply->elements == 2 ? std::string(ReplyString(*reply->element[1])) : "";
  }

  ScriptShas shas_;
  KeyLayout layout_{1};
  const std::string idem_key_ = layout_.Idempotency(0, "clinic-a", "idem-1");
};

TEST_F(CodecsTest, FeedbackEntryWrittenByTheAppendScriptDecodesToTheRating) {
  std::string id = AppendFeedback(SrsFeedback(), "acc-1");
  std::vector<StreamEntry> entries = Entries(layout_.FeedbackStream(0));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id, id);
  auto decoded = DecodeFeedback(entries[0], analytics::InstrumentRegistry::BuiltIn());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->stream_id, id);
  EXPECT_EQ(decoded->dyad.tenant_id, "clinic-a");
  EXPECT_EQ(decoded->rating.rating_id, "acc-1");
  EXPECT_EQ(decoded->rating.session_number, 4);
  EXPECT_EQ(decoded->rating.session_time_ms, 1'764'000'000'000);
  EXPECT_EQ(decoded->rating.instrument_id, "srs");
  EXPECT_EQ(decoded->idempotency_id, SrsFeedback().idempotency_id());
  EXPECT_FALSE(decoded->idempotency_id.empty());

  // The idempotency record written alongside names the entry and the accepted id.
  RedisReplyPtr value = Run({"GET", idem_key_});
  std::optional<IdempotencyRecord> record = IdempotencyRecord::Parse(ReplyString(*value));
  ASSERT_TRUE(record.has_value()) << ReplyString(*value);
  EXPECT_EQ(record->content_hash, "hash-1");
  EXPECT_EQ(record->stream_id, id);
  EXPECT_EQ(record->accepted_id, "acc-1");
  EXPECT_EQ(IdempotencyRecord::Parse(record->Encode()), record);
}

TEST_F(CodecsTest, FeedbackEntriesOfAnotherVersionOrIncompleteAreRefused) {
  std::string bytes;
  EncodeFeedbackEntry(SrsFeedback(), "acc-1", absl::UnixEpoch(), &bytes);
  const std::string stream = layout_.FeedbackStream(0);
  Run({"XADD", stream, "*", "v", "2", "tenant", "clinic-a", "accepted_id", "acc-1", "entry",
       bytes});
  Run({"XADD", stream, "*", "v", "1", "tenant", "clinic-a", "entry", bytes});
  Run({"XADD", stream, "*", "v", "1", "tenant", "clinic-b", "accepted_id", "acc-1", "entry",
       bytes});
  Run({"XADD", stream, "*", "v", "1", "tenant", "clinic-a", "accepted_id", "acc-1", "entry",
       "not protobuf \xff\xff"});
  for (const StreamEntry& entry : Entries(stream)) {
    auto decoded = DecodeFeedback(entry, analytics::InstrumentRegistry::BuiltIn());
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << entry.id;
  }
}

TEST_F(CodecsTest, ACommittedVersionOneFeedbackEntryStillDecodes) {
  // Bytes of a FeedbackEntry as version 1 wrote them (field numbers of records.proto): a
  // change of the schema that breaks them breaks every stream already in Redis.
  alliance::internal::v1::FeedbackEntry golden;
  *golden.mutable_feedback() = SrsFeedback();
  golden.set_accepted_id("acc-1");
  std::string mine;
  EncodeFeedbackEntry(SrsFeedback(), "acc-1", absl::UnixEpoch(), &mine);
  golden.mutable_accepted_at();  // present, zero: as EncodeFeedbackEntry writes it
  EXPECT_EQ(mine, golden.SerializeAsString());
  EXPECT_EQ(static_cast<uint8_t>(mine[0]), (1 << 3) | 2);  // feedback = field 1, bytes
}

TEST_F(CodecsTest, AlertEntryWrittenByTheApplyScriptParsesBack) {
  const std::string lease = layout_.Lease(0);
  Run({"SET", lease, "w1"});
  Run({"XGROUP", "CREATE", layout_.FeedbackStream(0), kWorkerGroup, "$", "MKSTREAM"});
  alliance::v1::Alert alert;
  alert.set_alert_id("alert-1");
  alert.set_tenant_id("clinic-a");
  alert.set_therapist_id("t1");
  alert.set_client_id("c1");
  alert.set_kind(alliance::v1::ALERT_KIND_RUPTURE);
  alert.set_severity(alliance::v1::SEVERITY_HIGH);
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(alert, &json).ok());
  // One dyad with no head to write, one alert, nothing to acknowledge; no retention.
  RedisReplyPtr reply = Eval(
      Script::kApplyBatch,
      {lease, layout_.AlertStream(0), layout_.FeedbackStream(0), layout_.ErasureCount(0),
       layout_.DyadState(0, "clinic-a", "t1", "c1"), layout_.DyadLog(0, "clinic-a", "t1", "c1"),
       layout_.DyadIndex(0, "clinic-a"), layout_.DisengagementWatch(0)},
      {"w1",       std::string(kWorkerGroup),
       "1",        "0",
       "",         "",
       "a",        "",
       "",         "1",
       "clinic-a", "t1",
       "c1",       "alert-1",
       "rupture",  "high",
       json,       "0",
       "0",        "",
       "",         "0",
       "0"});
  ASSERT_EQ(reply->type, REDIS_REPLY_ARRAY);
  RedisReplyPtr entries = Run({"XRANGE", layout_.AlertStream(0), "-", "+"});
  ASSERT_EQ(entries->elements, 1u);
  std::unique_ptr<AlertEntry> entry = ParseAlertEntry(0, *entries->element[0]);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->tenant, "clinic-a");
  EXPECT_EQ(entry->therapist, "t1");
  EXPECT_EQ(entry->client, "c1");
  EXPECT_EQ(entry->alert_id, "alert-1");
  ASSERT_NE(entry->alert, nullptr);
  EXPECT_EQ(entry->alert->kind(), alliance::v1::ALERT_KIND_RUPTURE);
  EXPECT_EQ(entry->alert->status(), alliance::v1::ALERT_STATUS_OPEN);
}

TEST_F(CodecsTest, AlertEntriesOfAnotherVersionOrAnotherTenantsBodyAreNotServed) {
  const std::string stream = layout_.AlertStream(0);
  Run({"XADD", stream, "*", "v", "2", "tenant", "clinic-a", "alert",
       R"({"alertId":"x","tenantId":"clinic-a"})"});
  Run({"XADD", stream, "*", "v", "1", "tenant", "clinic-a", "alert",
       R"({"alertId":"x","tenantId":"clinic-b"})"});
  Run({"XADD", stream, "*", "v", "1", "tenant", "clinic-a", "alert", "{not json"});
  RedisReplyPtr entries = Run({"XRANGE", stream, "-", "+"});
  ASSERT_EQ(entries->elements, 3u);
  for (size_t i = 0; i < entries->elements; ++i) {
    std::unique_ptr<AlertEntry> entry = ParseAlertEntry(0, *entries->element[i]);
    ASSERT_NE(entry, nullptr);  // still an entry: positions move past it
    EXPECT_EQ(entry->alert, nullptr) << i;
  }
}

TEST_F(CodecsTest, DeadLetterWrittenByTheScriptParsesBackAndReplays) {
  const std::string feedback = layout_.FeedbackStream(0);
  const std::string dead = layout_.DeadLetterStream(0);
  const std::string lease = layout_.Lease(0);
  Run({"SET", lease, "w1"});
  Run({"XGROUP", "CREATE", feedback, kWorkerGroup, "$", "MKSTREAM"});
  std::string source = AppendFeedback(SrsFeedback(), "acc-1");
  Run({"XREADGROUP", "GROUP", kWorkerGroup, "w1", "COUNT", "1", "STREAMS", feedback, ">"});
  StreamEntry parked_entry = Entries(feedback)[0];
  std::vector<std::string> args = {"w1", std::string(kWorkerGroup), source, "unknown instrument",
                                   "5"};
  for (const auto& [name, value] : parked_entry.fields) {
    args.push_back(name);
    args.push_back(value);
  }
  RedisReplyPtr reply = Eval(Script::kDeadLetter, {lease, dead, feedback}, args);
  ASSERT_EQ(reply->type, REDIS_REPLY_INTEGER);
  ASSERT_EQ(reply->integer, 1);

  std::vector<StreamEntry> parked = Entries(dead);
  ASSERT_EQ(parked.size(), 1u);
  auto letter = ParseDeadLetter(parked[0]);
  ASSERT_TRUE(letter.ok()) << letter.status();
  EXPECT_EQ(letter->source_id, source);
  EXPECT_EQ(letter->reason, "unknown instrument");
  EXPECT_EQ(letter->attempts, 5);
  EXPECT_EQ(letter->tenant, "clinic-a");
  EXPECT_EQ(letter->accepted_id, "acc-1");
  EXPECT_EQ(letter->entry, *parked_entry.Field("entry"));

  // Replayed, it is a feedback entry again that decodes to the same rating.
  reply = Eval(Script::kReplayDeadLetter, {dead, feedback}, {letter->id});
  ASSERT_EQ(reply->integer, 1);
  std::vector<StreamEntry> again = Entries(feedback);
  ASSERT_EQ(again.size(), 2u);
  auto decoded = DecodeFeedback(again[1], analytics::InstrumentRegistry::BuiltIn());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->rating.rating_id, "acc-1");
}

TEST(DeadLetterCodecTest, IncompleteOrOtherVersionIsRefused) {
  StreamEntry entry{"1-1",
                    {{"v", "1"},
                     {"source_id", "1-0"},
                     {"reason", "r"},
                     {"attempts", "3"},
                     {"tenant", "t"},
                     {"accepted_id", "a"},
                     {"entry", "e"}}};
  ASSERT_TRUE(ParseDeadLetter(entry).ok());
  StreamEntry other_version = entry;
  other_version.fields[0].second = "2";
  EXPECT_EQ(ParseDeadLetter(other_version).status().code(), absl::StatusCode::kInvalidArgument);
  for (size_t drop = 1; drop < entry.fields.size(); ++drop) {
    StreamEntry missing = entry;
    missing.fields.erase(missing.fields.begin() + static_cast<long>(drop));
    EXPECT_FALSE(ParseDeadLetter(missing).ok()) << entry.fields[drop].first;
  }
  StreamEntry bad_attempts = entry;
  bad_attempts.fields[3].second = "three";
  EXPECT_FALSE(ParseDeadLetter(bad_attempts).ok());
}

TEST(IdempotencyRecordTest, OnlyThreeNonEmptyPartsParse) {
  EXPECT_TRUE(IdempotencyRecord::Parse("h|1-1|a").has_value());
  for (std::string_view bad : {"", "h", "h|1-1", "h|1-1|a|b", "|1-1|a", "h||a", "h|1-1|"}) {
    EXPECT_FALSE(IdempotencyRecord::Parse(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace alliance
