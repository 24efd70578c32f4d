// Test fixture support: a gtest fixture with its own real redis-server (tests/support/
// redis_server.h) and one connection to it, for tests of code that talks to Redis directly.
#ifndef ALLIANCE_TESTS_SUPPORT_REDIS_TEST_H_
#define ALLIANCE_TESTS_SUPPORT_REDIS_TEST_H_

#include <memory>

#include "gtest/gtest.h"
#include "store/redis_connection.h"
#include "tests/support/redis_server.h"

namespace alliance::testing {

class RedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok());
    auto connection = RedisConnection::Connect(server_.endpoint());
    ASSERT_TRUE(connection.ok()) << connection.status();
    redis_ = *std::move(connection);
  }

  RedisServer server_;
  std::unique_ptr<RedisConnection> redis_;
};

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_SUPPORT_REDIS_TEST_H_
