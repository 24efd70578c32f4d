// CRC16 and key slots against the Redis Cluster specification's vectors, and against Redis
// itself (CLUSTER KEYSLOT) for Alliance's partition tags in cluster_client_test.cc.
#include "store/cluster_slot.h"

#include <string>

#include "gtest/gtest.h"

namespace alliance {
namespace {

TEST(ClusterSlotTest, Crc16IsXmodem) {
  EXPECT_EQ(Crc16("123456789"), 0x31C3);  // the specification's check value
  EXPECT_EQ(Crc16(""), 0);
  EXPECT_EQ(Crc16(std::string("\0", 1)), 0);
  EXPECT_EQ(Crc16("A"), 0x58E5);
}

TEST(ClusterSlotTest, KnownSlots) {
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot("bar"), 5061);
  EXPECT_EQ(KeySlot("123456789"), 0x31C3 % 16384);
  EXPECT_EQ(KeySlot(""), 0);
}

TEST(ClusterSlotTest, HashTags) {
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("{user1000}.followers"));
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  // Only the first '{' and the first '}' after it count.
  EXPECT_EQ(HashTagOf("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(KeySlot("foo{{bar}}zap"), KeySlot("{bar"));
  EXPECT_EQ(HashTagOf("foo{bar}{zap}"), "bar");
  // An empty tag, or no closing brace: the whole key.
  EXPECT_EQ(HashTagOf("foo{}{bar}"), "foo{}{bar}");
  EXPECT_EQ(KeySlot("foo{}{bar}"), Crc16("foo{}{bar}") % 16384);
  EXPECT_EQ(HashTagOf("foo{bar"), "foo{bar");
  EXPECT_EQ(HashTagOf("foo}bar{"), "foo}bar{");
  EXPECT_EQ(HashTagOf("}{x}"), "x");
}

TEST(ClusterSlotTest, PartitionKeysShareTheirPartitionsSlot) {
  for (int p = 0; p < 16; ++p) {
    const std::string tag = "p" + std::to_string(p);
    const int slot = KeySlot(tag);
    EXPECT_EQ(KeySlot("alliance:{" + tag + "}:feedback"), slot);
    EXPECT_EQ(KeySlot("alliance:{" + tag + "}:dyad:t:th:c"), slot);
    EXPECT_GE(slot, 0);
    EXPECT_LT(slot, kClusterSlots);
  }
}

}  // namespace
}  // namespace alliance
