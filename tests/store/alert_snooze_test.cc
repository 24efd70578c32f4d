// Snoozing an alert in the store (store/alert_writes.h, store/lua/snooze_alert.lua) and the
// effective status the status hash decodes to (store/alert_status_hash.h) against a real
// redis-server: SNOOZED while the snooze lasts, the status from before once it has passed
// (the hash's until rewritten, no waiting), the latest snooze winning, acknowledge and resolve
// ending it, and a resolved alert refused with nothing written.
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "store/alert_status_hash.h"
#include "store/alert_status_reads.h"
#include "store/alert_writes.h"
#include "store/redis_executor.h"
#include "tests/support/redis_test.h"

namespace alliance {
namespace {

using alliance::v1::Alert;

class AlertSnoozeTest : public testing::RedisTest {
 protected:
  Alert Read(const std::string& id, absl::Time now = absl::Now()) {
    Alert alert;
    alert.set_alert_id(id);
    absl::StatusOr<RedisReplyPtr> reply =
        redis_->Command({"HGETALL", layout_.AlertStatus("ten", id)});
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (reply.ok()) {
      EXPECT_TRUE(ApplyAlertStatusHash(**reply, &alert, now).ok());
    }
    return alert;
  }
  // Reads through the typed operation the service uses (its own clock).
  Alert ReadNow(const std::string& id) {
    ConnectionExecutor redis(*redis_);
    Alert alert;
    alert.set_alert_id(id);
    std::vector<Alert*> one = {&alert};
    EXPECT_TRUE(ReadAlertStatuses(redis, layout_, "ten", one).ok());
    return alert;
  }
  absl::Status Snooze(const std::string& id, const std::string& actor, absl::Duration length,
                      const std::string& reason, Alert* out) {
    ConnectionExecutor redis(*redis_);
    out->set_alert_id(id);
    return SnoozeAlertStatus(redis, layout_, "ten", actor, absl::Now() + length, reason, out);
  }
  absl::Status Change(const std::string& id, AlertStatusChange change) {
    ConnectionExecutor redis(*redis_);
    Alert alert;
    alert.set_alert_id(id);
    return ChangeAlertStatus(redis, layout_, "ten", "someone", change, &alert);
  }
  // Moves the stored until into the past, as if the snooze had run out.
  void Expire(const std::string& id) {
    absl::StatusOr<RedisReplyPtr> reply = redis_->Command(
        {"HSET", layout_.AlertStatus("ten", id), "snoozed_until", "2001-01-01T00:00:00Z"});
    ASSERT_TRUE(reply.ok()) << reply.status();
  }

  KeyLayout layout_{4};
};

TEST_F(AlertSnoozeTest, SnoozedWhileItLastsThenOpenWithItsFieldsKept) {
  Alert snoozed;
  ASSERT_TRUE(Snooze("a1", "ann", absl::Hours(2), "waiting for the supervisor", &snoozed).ok());
  EXPECT_EQ(snoozed.status(), alliance::v1::ALERT_STATUS_SNOOZED);
  EXPECT_EQ(snoozed.snoozed_by(), "ann");
  EXPECT_EQ(snoozed.snooze_reason(), "waiting for the supervisor");
  EXPECT_GT(snoozed.snoozed_at().seconds(), 0);
  EXPECT_NEAR(snoozed.snoozed_until().seconds() - snoozed.snoozed_at().seconds(), 7200, 5);
  EXPECT_EQ(ReadNow("a1").status(), alliance::v1::ALERT_STATUS_SNOOZED);

  // The same hash read at a time past the until: open again, the snooze kept as history.
  const absl::Time later = absl::FromUnixSeconds(snoozed.snoozed_until().seconds() + 1);
  Alert after = Read("a1", later);
  EXPECT_EQ(after.status(), alliance::v1::ALERT_STATUS_OPEN);
  EXPECT_EQ(after.snoozed_by(), "ann");
  EXPECT_EQ(after.snooze_reason(), "waiting for the supervisor");

  Expire("a1");
  Alert expired = ReadNow("a1");
  EXPECT_EQ(expired.status(), alliance::v1::ALERT_STATUS_OPEN);
  EXPECT_EQ(expired.snoozed_until().seconds(), 978307200);
}

TEST_F(AlertSnoozeTest, AnExpiredSnoozeOfAnAcknowledgedAlertReadsAcknowledged) {
  ASSERT_TRUE(Change("a2", AlertStatusChange::kAcknowledge).ok());
  Alert snoozed;
  ASSERT_TRUE(Snooze("a2", "bob", absl::Minutes(5), "later", &snoozed).ok());
  EXPECT_EQ(snoozed.status(), alliance::v1::ALERT_STATUS_SNOOZED);
  EXPECT_EQ(snoozed.acknowledged_by(), "someone");
  Expire("a2");
  EXPECT_EQ(ReadNow("a2").status(), alliance::v1::ALERT_STATUS_ACKNOWLEDGED);
}

TEST_F(AlertSnoozeTest, TheLatestSnoozeWinsAndRevivesAnExpiredOne) {
  Alert first;
  ASSERT_TRUE(Snooze("a3", "ann", absl::Hours(1), "first", &first).ok());
  Expire("a3");
  Alert second;
  ASSERT_TRUE(Snooze("a3", "cat", absl::Hours(3), "second", &second).ok());
  Alert now = ReadNow("a3");
  EXPECT_EQ(now.status(), alliance::v1::ALERT_STATUS_SNOOZED);
  EXPECT_EQ(now.snoozed_by(), "cat");
  EXPECT_EQ(now.snooze_reason(), "second");
  EXPECT_EQ(now.snoozed_until().seconds(), second.snoozed_until().seconds());
}

TEST_F(AlertSnoozeTest, AcknowledgeOrResolveEndsTheSnoozeAndASnoozeAfterwardsStartsAgain) {
  Alert snoozed;
  ASSERT_TRUE(Snooze("a4", "ann", absl::Hours(1), "r", &snoozed).ok());
  ASSERT_TRUE(Change("a4", AlertStatusChange::kAcknowledge).ok());
  Alert acked = ReadNow("a4");
  EXPECT_EQ(acked.status(), alliance::v1::ALERT_STATUS_ACKNOWLEDGED);
  EXPECT_EQ(acked.snoozed_by(), "ann");  // history
  // An acknowledged alert snoozed again, then acknowledged again: the second ack ends it too.
  ASSERT_TRUE(Snooze("a4", "ann", absl::Hours(1), "r", &snoozed).ok());
  EXPECT_EQ(ReadNow("a4").status(), alliance::v1::ALERT_STATUS_SNOOZED);
  ASSERT_TRUE(Change("a4", AlertStatusChange::kAcknowledge).ok());
  EXPECT_EQ(ReadNow("a4").status(), alliance::v1::ALERT_STATUS_ACKNOWLEDGED);

  ASSERT_TRUE(Snooze("a5", "ann", absl::Hours(1), "r", &snoozed).ok());
  ASSERT_TRUE(Change("a5", AlertStatusChange::kResolve).ok());
  EXPECT_EQ(ReadNow("a5").status(), alliance::v1::ALERT_STATUS_RESOLVED);
}

TEST_F(AlertSnoozeTest, AResolvedAlertIsRefusedAndNothingIsWritten) {
  ASSERT_TRUE(Change("a6", AlertStatusChange::kResolve).ok());
  Alert out;
  absl::Status status = Snooze("a6", "ann", absl::Hours(1), "too late", &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  Alert stored = ReadNow("a6");
  EXPECT_EQ(stored.status(), alliance::v1::ALERT_STATUS_RESOLVED);
  EXPECT_TRUE(stored.snoozed_by().empty());
  EXPECT_TRUE(stored.snooze_reason().empty());
}

TEST_F(AlertSnoozeTest, AnUnreadableUntilIsNoSnooze) {
  absl::StatusOr<RedisReplyPtr> reply = redis_->Command(
      {"HSET", layout_.AlertStatus("ten", "a7"), "snoozed_by", "ann", "snoozed_until", "soon"});
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(ReadNow("a7").status(), alliance::v1::ALERT_STATUS_OPEN);
}

}  // namespace
}  // namespace alliance
