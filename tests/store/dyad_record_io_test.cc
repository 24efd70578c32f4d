// Reading dyad records against a real redis-server: head and log read as one record, a record
// stored in one key reads as itself, a missing head is "no dyad" whatever the log holds, and
// bytes that are not a record are DATA_LOSS.
#include "store/dyad_record_io.h"

#include "gtest/gtest.h"
#include "tests/support/redis_test.h"

namespace alliance {
namespace {

class DyadRecordIoTest : public testing::RedisTest {
 protected:
  void Set(const std::string& key, const std::string& value) {
    ASSERT_TRUE(redis_->Command({"SET", key, value}).ok());
  }

  absl::StatusOr<std::optional<StoredDyad>> Read() {
    return ReadStoredDyad(*redis_, layout_, 1, "ten", "th", "cl");
  }

  KeyLayout layout_{2};
  const std::string head_key_ = layout_.DyadState(1, "ten", "th", "cl");
  const std::string log_key_ = layout_.DyadLog(1, "ten", "th", "cl");
};

internal::v1::DyadRecord Head(int64_t version) {
  internal::v1::DyadRecord head;
  head.set_version(version);
  head.set_tenant_id("ten");
  head.mutable_picture()->set_ratings_applied(2);
  return head;
}

TEST_F(DyadRecordIoTest, HeadAndLogReadAsOneRecord) {
  internal::v1::DyadRecord log1, log2;
  log1.add_ratings()->set_rating_id("r1");
  log1.add_alerts()->set_alert_id("a1");
  log2.add_ratings()->set_rating_id("r2");
  Set(head_key_, Head(7).SerializeAsString());
  Set(log_key_, log1.SerializeAsString() + log2.SerializeAsString());  // two appends

  auto stored = Read();
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_TRUE(stored->has_value());
  EXPECT_TRUE((*stored)->has_log);
  const internal::v1::DyadRecord& r = (*stored)->record;
  EXPECT_EQ(r.version(), 7);
  EXPECT_EQ(r.picture().ratings_applied(), 2);
  ASSERT_EQ(r.ratings_size(), 2);
  EXPECT_EQ(r.ratings(0).rating_id(), "r1");
  EXPECT_EQ(r.ratings(1).rating_id(), "r2");
  ASSERT_EQ(r.alerts_size(), 1);
  EXPECT_EQ(r.alerts(0).alert_id(), "a1");
}

TEST_F(DyadRecordIoTest, ARecordInOneKeyReadsAsItself) {
  internal::v1::DyadRecord whole = Head(3);
  whole.add_ratings()->set_rating_id("r1");
  Set(head_key_, whole.SerializeAsString());

  auto stored = Read();
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_TRUE(stored->has_value());
  EXPECT_FALSE((*stored)->has_log);
  EXPECT_EQ((*stored)->record.SerializeAsString(), whole.SerializeAsString());
}

TEST_F(DyadRecordIoTest, NoHeadIsNoDyadWhateverTheLogHolds) {
  auto none = Read();
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  Set(log_key_, "leftover");
  auto still = Read();
  ASSERT_TRUE(still.ok()) << still.status();
  EXPECT_FALSE(still->has_value());
}

TEST_F(DyadRecordIoTest, BytesThatAreNotARecordAreDataLoss) {
  Set(head_key_, Head(1).SerializeAsString());
  Set(log_key_, "\xff\xff\xff not protobuf");
  EXPECT_EQ(Read().status().code(), absl::StatusCode::kDataLoss);
  Set(head_key_, std::string("\x12\x05", 2) + "ab");  // a string field longer than its bytes
  ASSERT_TRUE(redis_->Command({"DEL", log_key_}).ok());
  EXPECT_EQ(Read().status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace alliance
