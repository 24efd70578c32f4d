// ClusterMap and redirections: replies built from RESP text with hiredis's own reader (so the
// trees are exactly what a connection would hand over), good and garbage alike.
#include "store/cluster_map.h"

#include <hiredis/hiredis.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "store/cluster_slot.h"
#include "store/redis_connection.h"

namespace alliance {
namespace {

RedisReplyPtr Parse(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, resp.data(), resp.size());
  void* reply = nullptr;
  const int rc = redisReaderGetReply(reader, &reply);
  redisReaderFree(reader);
  EXPECT_EQ(rc, REDIS_OK);
  EXPECT_NE(reply, nullptr) << "incomplete RESP in the test";
  return RedisReplyPtr(static_cast<redisReply*>(reply));
}

std::string Bulk(const std::string& s) { return absl::StrCat("$", s.size(), "\r\n", s, "\r\n"); }
std::string Int(long long n) { return absl::StrCat(":", n, "\r\n"); }
std::string Node(const std::string& host, long long port, const std::string& id = "") {
  if (id.empty()) return absl::StrCat("*2\r\n", Bulk(host), Int(port));
  return absl::StrCat("*3\r\n", Bulk(host), Int(port), Bulk(id));
}
std::string Range(long long first, long long last, const std::string& nodes, int node_count) {
  return absl::StrCat("*", 2 + node_count, "\r\n", Int(first), Int(last), nodes);
}

absl::StatusOr<ClusterMap> MapOf(const std::string& resp) {
  RedisReplyPtr reply = Parse(resp);
  if (reply == nullptr) return absl::InternalError("no reply");
  return ClusterMap::FromClusterSlots(*reply, "10.0.0.9");
}

// Three primaries with one replica each, as a healthy cluster of six answers (Redis 7 adds a
// fourth element, the metadata array, to every node: ignored).
std::string HealthyReply() {
  return absl::StrCat(
      "*3\r\n", Range(0, 5460, Node("127.0.0.1", 7000, "a") + Node("127.0.0.1", 7003, "d"), 2),
      Range(5461, 10922,
            "*4\r\n" + Bulk("127.0.0.1") + Int(7001) + Bulk("b") + "*0\r\n" +
                Node("127.0.0.1", 7004, "e"),
            2),
      Range(10923, 16383, Node("127.0.0.1", 7002, "c") + Node("127.0.0.1", 7005, "f"), 2));
}

TEST(ClusterMapTest, HealthyMap) {
  absl::StatusOr<ClusterMap> map = MapOf(HealthyReply());
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->covered_slots(), kClusterSlots);
  ASSERT_NE(map->PrimaryOf(0), nullptr);
  EXPECT_EQ(map->PrimaryOf(0)->ToString(), "127.0.0.1:7000");
  EXPECT_EQ(map->PrimaryOf(5461)->ToString(), "127.0.0.1:7001");
  EXPECT_EQ(map->PrimaryOf(16383)->ToString(), "127.0.0.1:7002");
  ASSERT_EQ(map->ReplicasOf(12182).size(), 1u);
  EXPECT_EQ(map->ReplicasOf(12182)[0].port, 7005);
  EXPECT_EQ(map->Primaries().size(), 3u);
  EXPECT_EQ(map->Nodes().size(), 6u);
  EXPECT_EQ(map->PrimaryOf(-1), nullptr);
  EXPECT_EQ(map->PrimaryOf(kClusterSlots), nullptr);
}

TEST(ClusterMapTest, OnePrimaryWithSeveralRangesAndHoles) {
  absl::StatusOr<ClusterMap> map =
      MapOf("*2\r\n" + Range(0, 99, Node("h", 1), 1) + Range(200, 200, Node("h", 1), 1));
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->covered_slots(), 101);
  EXPECT_EQ(map->Primaries().size(), 1u);
  EXPECT_EQ(map->PrimaryOf(150), nullptr);
  EXPECT_NE(map->PrimaryOf(200), nullptr);
}

TEST(ClusterMapTest, NilOrEmptyHostIsTheReplyingNodeAndUnknownReplicasAreSkipped) {
  absl::StatusOr<ClusterMap> map =
      MapOf("*2\r\n" + Range(0, 10, "*2\r\n$-1\r\n" + Int(7000) + Node("?", 7003), 2) +
            Range(11, 20, Node("", 7001), 1));
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->PrimaryOf(0)->ToString(), "10.0.0.9:7000");
  EXPECT_TRUE(map->ReplicasOf(0).empty());
  EXPECT_EQ(map->PrimaryOf(11)->ToString(), "10.0.0.9:7001");
  EXPECT_FALSE(MapOf("*1\r\n" + Range(0, 10, Node("?", 7000), 1)).ok());
}

TEST(ClusterMapTest, EmptyReplyServesNothing) {
  absl::StatusOr<ClusterMap> map = MapOf("*0\r\n");
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->covered_slots(), 0);
  EXPECT_TRUE(map->Primaries().empty());
}

void ExpectRefused(const std::string& resp, const std::string& mentions) {
  absl::StatusOr<ClusterMap> map = MapOf(resp);
  ASSERT_FALSE(map.ok()) << "accepted: " << resp;
  EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(map.status().message().find(mentions), std::string::npos) << map.status();
}

TEST(ClusterMapTest, GarbageIsAClearError) {
  ExpectRefused("-ERR This instance has cluster support disabled\r\n", "cluster support disabled");
  ExpectRefused("+OK\r\n", "not an array");
  ExpectRefused(":3\r\n", "not an array");
  ExpectRefused("$5\r\nhello\r\n", "not an array");
  ExpectRefused("*1\r\n:5\r\n", "not an array");
  ExpectRefused("*1\r\n*-1\r\n", "not an array");
  ExpectRefused("*1\r\n*2\r\n:0\r\n:5\r\n", "at least one node");
  ExpectRefused("*1\r\n*0\r\n", "at least one node");
  ExpectRefused("*1\r\n" + Range(0, 5, "$1\r\nx\r\n", 1), "node entry");
  ExpectRefused("*1\r\n" + Range(0, 5, "*1\r\n" + Bulk("h"), 1), "node entry");
  ExpectRefused("*1\r\n" + Range(0, 5, "*0\r\n", 1), "node entry");
  ExpectRefused("*1\r\n" + Range(0, 5, Node("h", 1) + Int(7), 2), "node entry");
  ExpectRefused("*1\r\n*3\r\n" + Bulk("0") + Int(5) + Node("h", 1), "not integers");
  ExpectRefused("*1\r\n*3\r\n" + Int(0) + "$-1\r\n" + Node("h", 1), "not integers");
  ExpectRefused("*1\r\n" + Range(0, 5, "*2\r\n" + Int(1) + Int(7000), 1), "host");
  ExpectRefused("*1\r\n" + Range(0, 5, "*2\r\n" + Bulk("h") + Bulk("7000"), 1), "port");
  ExpectRefused("*1\r\n" + Range(0, 5, "*3\r\n" + Bulk("h") + Int(7000) + Int(1), 1), "id");
}

TEST(ClusterMapTest, OutOfRangeSlotsAndPorts) {
  ExpectRefused("*1\r\n" + Range(0, 16384, Node("h", 1), 1), "0..16383");
  ExpectRefused("*1\r\n" + Range(-1, 5, Node("h", 1), 1), "0..16383");
  ExpectRefused("*1\r\n" + Range(9, 5, Node("h", 1), 1), "0..16383");
  ExpectRefused("*1\r\n" + Range(0, 99999999999LL, Node("h", 1), 1), "0..16383");
  ExpectRefused("*1\r\n" + Range(0, 5, Node("h", 0), 1), "1..65535");
  ExpectRefused("*1\r\n" + Range(0, 5, Node("h", 65536), 1), "1..65535");
  ExpectRefused("*1\r\n" + Range(0, 5, Node("h", 1) + Node("r", -3), 2), "1..65535");
  ExpectRefused("*2\r\n" + Range(0, 10, Node("h", 1), 1) + Range(10, 20, Node("g", 2), 1),
                "slot 10 is in two ranges");
}

TEST(ClusterMapTest, SetPrimaryAfterMoved) {
  absl::StatusOr<ClusterMap> map = MapOf(HealthyReply());
  ASSERT_TRUE(map.ok());
  map->SetPrimary(100, NodeAddress{"127.0.0.1", 7001});
  EXPECT_EQ(map->PrimaryOf(100)->ToString(), "127.0.0.1:7001");
  EXPECT_EQ(map->PrimaryOf(101)->ToString(), "127.0.0.1:7000");
  map->SetPrimary(101, NodeAddress{"127.0.0.1", 7999});  // a node the map did not know
  EXPECT_EQ(map->PrimaryOf(101)->ToString(), "127.0.0.1:7999");
  EXPECT_TRUE(map->ReplicasOf(101).empty());
  EXPECT_EQ(map->Primaries().size(), 4u);
  EXPECT_EQ(map->covered_slots(), kClusterSlots);
  // Moving the only slot of that node away frees its entry, which the next new node reuses.
  map->SetPrimary(101, NodeAddress{"127.0.0.1", 7000});
  EXPECT_EQ(map->Primaries().size(), 3u);
  map->SetPrimary(102, NodeAddress{"127.0.0.1", 7998});
  EXPECT_EQ(map->Primaries().size(), 4u);
  map->SetPrimary(kClusterSlots, NodeAddress{"x", 1});  // ignored
  EXPECT_EQ(map->covered_slots(), kClusterSlots);
}

TEST(RedirectTest, MovedAndAsk) {
  absl::StatusOr<Redirect> moved = ParseRedirect("MOVED 3999 127.0.0.1:6381", "h");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->kind, RedirectKind::kMoved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->node, (NodeAddress{"127.0.0.1", 6381}));
  absl::StatusOr<Redirect> ask = ParseRedirect("ASK 0 redis-3.example:7000", "h");
  ASSERT_TRUE(ask.ok()) << ask.status();
  EXPECT_EQ(ask->kind, RedirectKind::kAsk);
  EXPECT_EQ(ask->slot, 0);
  EXPECT_EQ(ask->node.host, "redis-3.example");
  absl::StatusOr<Redirect> no_host = ParseRedirect("MOVED 16383 :7002", "10.1.1.1");
  ASSERT_TRUE(no_host.ok());
  EXPECT_EQ(no_host->node.ToString(), "10.1.1.1:7002");
  absl::StatusOr<Redirect> v6 = ParseRedirect("MOVED 1 ::1:7002", "h");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->node.host, "::1");
  EXPECT_TRUE(IsRedirect("MOVED 1 h:1"));
  EXPECT_TRUE(IsRedirect("ASK garbage"));
  EXPECT_FALSE(IsRedirect("MOVEDX 1 h:1"));
  EXPECT_FALSE(IsRedirect("ERR unknown command"));
}

TEST(RedirectTest, MalformedRedirectionsAreErrors) {
  for (const char* text :
       {"MOVED", "MOVED 3999", "MOVED 3999 127.0.0.1", "MOVED 16384 h:1", "MOVED -1 h:1",
        "MOVED x h:1", "MOVED 3999 h:0", "MOVED 3999 h:65536", "MOVED 3999 h:99999999999",
        "MOVED 3999 h:+1", "MOVED 3999 h:", "MOVED 1 h:1 extra", "ASK  1 h:1", "TRYAGAIN 1 h:1",
        "MOVED 00000000000001 h:1"}) {
    absl::StatusOr<Redirect> r = ParseRedirect(text, "h");
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  // An empty host and no replying host to stand in for it.
  EXPECT_FALSE(ParseRedirect("MOVED 1 :7000", "").ok());
}

}  // namespace
}  // namespace alliance
