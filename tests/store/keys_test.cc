// Key layout: partitions are stable, in range, and every partition key carries its hash tag.
#include "store/keys.h"

#include <set>

#include "gtest/gtest.h"

namespace alliance {
namespace {

TEST(KeyLayoutTest, PartitionIsStableAndInRange) {
  KeyLayout layout(8);
  std::set<int> seen;
  for (int i = 0; i < 200; ++i) {
    std::string client = "client-" + std::to_string(i);
    int p = layout.PartitionOf("tenant", "t1", client);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, 8);
    EXPECT_EQ(p, layout.PartitionOf("tenant", "t1", client));
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), 8u) << "200 dyads should spread over all 8 partitions";
}

TEST(KeyLayoutTest, SeparatorPreventsAmbiguousDyads) {
  // ("ab","c") and ("a","bc") are different dyads; the hash must not merge them by accident.
  KeyLayout layout(1 << 20);
  EXPECT_NE(layout.PartitionOf("t", "ab", "c"), layout.PartitionOf("t", "a", "bc"));
}

TEST(KeyLayoutTest, PartitionKeysShareHashTag) {
  KeyLayout layout(4);
  const std::string tag = "{p3}";
  for (const std::string& key :
       {layout.FeedbackStream(3), layout.AlertStream(3), layout.DeadLetterStream(3),
        layout.Lease(3), layout.Idempotency(3, "ten", "id"), layout.DyadState(3, "ten", "a", "b"),
        layout.DyadLog(3, "ten", "a", "b"), layout.DyadIndex(3, "ten"), layout.ErasureCount(3)}) {
    EXPECT_NE(key.find(tag), std::string::npos) << key;
  }
  EXPECT_EQ(layout.FeedbackStream(3), "alliance:{p3}:feedback");
  EXPECT_EQ(layout.DyadState(0, "ten", "th", "cl"), "alliance:{p0}:dyad:ten:th:cl");
  EXPECT_EQ(layout.DyadLog(0, "ten", "th", "cl"), "alliance:{p0}:dyad:ten:th:cl:log");
}

}  // namespace
}  // namespace alliance
