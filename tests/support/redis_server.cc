// Starts and stops a real redis-server for integration tests.
#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace alliance::testing {

namespace {

// A port the kernel picks for a socket bound to port 0 (0 when it cannot).
int KernelPickedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace

int FreePort() {
  // The kernel may hand the same port out again once its socket is closed, so a test that
  // asks for several ports (gRPC, health, metrics, HTTP) could get one twice: each port is
  // given out once per process.
  static absl::Mutex mu(absl::kConstInit);
  static absl::flat_hash_set<int>* given = new absl::flat_hash_set<int>();
  absl::MutexLock lock(&mu);
  int port = 0;
  for (int attempt = 0; attempt < 1000; ++attempt) {  // bounded; a repeat is rare
    port = KernelPickedPort();
    if (port != 0 && given->insert(port).second) return port;
  }
  return port;
}

RedisServer::RedisServer() : RedisServer(Options{}) {}

RedisServer::RedisServer(Options options) : options_(options) {
  char tmpl[] = "/tmp/alliance-redis-XXXXXX";
  dir_ = mkdtemp(tmpl);
}

RedisServer::~RedisServer() {
  Kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

RedisEndpoint RedisServer::endpoint() const {
  RedisEndpoint e;
  e.host = "127.0.0.1";
  e.port = port_;
  e.password = password_;
  return e;
}

absl::Status RedisServer::Start() {
  if (port_ == 0) port_ = FreePort();
  std::vector<std::string> args = {"redis-server", "--port",    std::to_string(port_),
                                   "--bind",       "127.0.0.1", "--dir",
                                   dir_,           "--save",    "",
                                   "--daemonize",  "no",        "--loglevel",
                                   "warning",      "--logfile", dir_ + "/redis.log"};
  if (options_.appendonly) {
    for (const char* a : {"--appendonly", "yes", "--appendfsync", "always"}) args.push_back(a);
  }
  if (!password_.empty()) {
    args.push_back("--requirepass");
    args.push_back(password_);
  }
  const std::string null_device = "/dev/null";
  pid_t pid = fork();
  if (pid == 0) {
    // Not the test's stdout and stderr: ctest reads a test's output until every holder of
    // that pipe is gone, so a redis-server left behind by a test that crashed would otherwise
    // hold the test up until its timeout. (Redis writes to --logfile anyway.)
    int fd = open(null_device.c_str(), O_WRONLY);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp("redis-server", argv.data());
    _exit(127);
  }
  if (pid < 0) return absl::InternalError("fork failed");
  pid_ = pid;
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    auto conn = RedisConnection::Connect(endpoint());
    if (conn.ok()) {
      auto reply = (*conn)->Command({"PING"});
      if (reply.ok() && ReplyString(**reply) == "PONG") return absl::OkStatus();
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(
          absl::StrCat("redis-server exited early; see ", dir_, "/redis.log"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("redis-server did not answer PING within 10 s");
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void RedisServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  Kill();
}

absl::Status RedisServer::Restart() {
  Stop();
  return Start();
}

}  // namespace alliance::testing
