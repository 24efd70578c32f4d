// A tiny stand-in for a misbehaving cluster node: a thread with a loopback listening socket that
// parses each command (RESP, with hiredis's reader) and answers whatever the test's handler
// returns, raw. It lets tests show what real nodes will not do on demand: redirection loops,
// malformed redirections and slot maps, silence.
#ifndef ALLIANCE_TESTS_STORE_FAKE_REDIS_NODE_H_
#define ALLIANCE_TESTS_STORE_FAKE_REDIS_NODE_H_

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace alliance::testing {

class FakeRedisNode {
 public:
  // Returns the raw RESP reply to one command ("+OK\r\n"...); empty: no reply at all. Called
  // on the node's thread, with at least one argument.
  using Handler = std::function<std::string(const std::vector<std::string>& args)>;

  explicit FakeRedisNode(Handler handler);
  ~FakeRedisNode();  // stops the thread and closes every socket
  FakeRedisNode(const FakeRedisNode&) = delete;
  FakeRedisNode& operator=(const FakeRedisNode&) = delete;

  int port() const { return port_; }
  // Commands received so far (CLUSTER SLOTS included).
  int commands() const { return commands_.load(); }

  // A CLUSTER SLOTS reply giving every slot to 127.0.0.1:`port`.
  static std::string WholeMapReply(int port);

 private:
  void Serve();

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> commands_{0};
  std::thread thread_;
};

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_STORE_FAKE_REDIS_NODE_H_
