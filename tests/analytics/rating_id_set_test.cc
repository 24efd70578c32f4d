// Unit tests of RatingIdSet: exact membership (ids that differ in one byte, share a prefix, are
// empty or hold NUL bytes stay distinct), Insert reporting what was new, and membership kept
// across the set's growth steps.
#include "analytics/rating_id_set.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace alliance::analytics {
namespace {

TEST(RatingIdSet, InsertReportsWhatIsNew) {
  RatingIdSet ids;
  EXPECT_TRUE(ids.empty());
  EXPECT_TRUE(ids.Insert("r-1"));
  EXPECT_FALSE(ids.Insert("r-1"));
  EXPECT_TRUE(ids.Insert("r-2"));
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_FALSE(ids.empty());
}

TEST(RatingIdSet, MembershipIsExact) {
  RatingIdSet ids;
  ASSERT_TRUE(ids.Insert("3f2b6c1e-9a4d-4e1a-b6c2-000000000001"));
  EXPECT_TRUE(ids.Contains("3f2b6c1e-9a4d-4e1a-b6c2-000000000001"));
  EXPECT_FALSE(ids.Contains("3f2b6c1e-9a4d-4e1a-b6c2-000000000002"));
  EXPECT_FALSE(ids.Contains("3f2b6c1e-9a4d-4e1a-b6c2-00000000000"));
  EXPECT_FALSE(ids.Contains(""));
  EXPECT_TRUE(ids.Insert(""));
  EXPECT_TRUE(ids.Contains(""));
  const std::string with_nul("a\0b", 3);
  EXPECT_TRUE(ids.Insert(with_nul));
  EXPECT_FALSE(ids.Contains("a"));
  EXPECT_TRUE(ids.Contains(with_nul));
}

// Growth rebuilds the table from the hashes kept in the slots: every id must still be found,
// and no id that was never inserted may appear.
TEST(RatingIdSet, KeepsEveryIdAcrossGrowth) {
  RatingIdSet ids;
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(ids.Insert(absl::StrCat("rating-", i))) << i;
    ASSERT_TRUE(ids.Contains(absl::StrCat("rating-", i / 2))) << i;
  }
  EXPECT_EQ(ids.size(), 5000u);
  for (int i = 0; i < 5000; ++i) {
    EXPECT_TRUE(ids.Contains(absl::StrCat("rating-", i))) << i;
    EXPECT_FALSE(ids.Insert(absl::StrCat("rating-", i))) << i;
    EXPECT_FALSE(ids.Contains(absl::StrCat("rating-", i + 5000))) << i;
  }
  EXPECT_EQ(ids.size(), 5000u);
}

}  // namespace
}  // namespace alliance::analytics
