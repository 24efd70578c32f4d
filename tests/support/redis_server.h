// Test fixture support: a real redis-server on a free loopback port, with its data in a
// temporary folder, started and stopped by the test.
#ifndef ALLIANCE_TESTS_SUPPORT_REDIS_SERVER_H_
#define ALLIANCE_TESTS_SUPPORT_REDIS_SERVER_H_

#include <sys/types.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "store/redis_connection.h"

namespace alliance::testing {

// A free TCP port on 127.0.0.1 (bound then released; good enough for tests), never the same
// one twice in a process.
int FreePort();

class RedisServer {
 public:
  struct Options {
    bool appendonly = false;  // appendonly yes + appendfsync always, for durability tests
  };
  RedisServer();
  explicit RedisServer(Options options);
  ~RedisServer();

  // Before Start: the server requires this password (requirepass); endpoint() carries it.
  void RequirePassword(std::string password) { password_ = std::move(password); }
  // Starts redis-server and waits until it answers PING (at most 10 s).
  absl::Status Start();
  // SIGKILLs the server (data stays in its folder).
  void Kill();
  // Stops it cleanly (SHUTDOWN semantics via SIGTERM), waiting for exit.
  void Stop();
  // Starts it again on the same port with the same data folder.
  absl::Status Restart();

  int port() const { return port_; }
  bool running() const { return pid_ > 0; }
  RedisEndpoint endpoint() const;
  const std::string& dir() const { return dir_; }

 private:
  Options options_;
  std::string password_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_SUPPORT_REDIS_SERVER_H_
