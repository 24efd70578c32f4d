// The fake node's accept-and-answer loop: poll with a short timeout so the destructor's stop
// flag is seen promptly.
#include "tests/store/fake_redis_node.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace alliance::testing {
namespace {

struct ReaderDeleter {
  void operator()(redisReader* reader) const { redisReaderFree(reader); }
};

struct Client {
  int fd;
  std::unique_ptr<redisReader, ReaderDeleter> reader;
};

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) return;  // the client went away
    done += static_cast<size_t>(n);
  }
}

}  // namespace

FakeRedisNode::FakeRedisNode(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  listen(listen_fd_, 16);
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

FakeRedisNode::~FakeRedisNode() {
  stop_ = true;
  thread_.join();
  close(listen_fd_);
}

std::string FakeRedisNode::WholeMapReply(int port) {
  const std::string host = "127.0.0.1";
  return absl::StrCat("*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$", host.size(), "\r\n", host,
                      "\r\n:", port, "\r\n");
}

void FakeRedisNode::Serve() {
  std::vector<Client> clients;
  while (!stop_) {
    std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0}};
    for (const Client& c : clients) fds.push_back({c.fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), 20) <= 0) continue;
    std::vector<Client> kept;
    for (size_t i = 0; i + 1 < fds.size(); ++i) {  // the clients polled this round
      Client& client = clients[i];
      bool open = true;
      if (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buffer[4096];
        ssize_t n = read(client.fd, buffer, sizeof buffer);
        if (n <= 0) {
          open = false;
        } else {
          redisReaderFeed(client.reader.get(), buffer, static_cast<size_t>(n));
          void* raw = nullptr;
          std::string replies;  // one write for all the commands read: no small-packet delays
          while (open && redisReaderGetReply(client.reader.get(), &raw) == REDIS_OK &&
                 raw != nullptr) {
            redisReply* command = static_cast<redisReply*>(raw);
            std::vector<std::string> args;
            if (command->type == REDIS_REPLY_ARRAY) {
              for (size_t a = 0; a < command->elements; ++a) {
                args.emplace_back(command->element[a]->str, command->element[a]->len);
              }
            }
            freeReplyObject(command);
            raw = nullptr;
            ++commands_;
            // Handlers look at args[0]: anything but a command array is refused here.
            replies += args.empty() ? "-ERR not a command\r\n" : handler_(args);
          }
          if (!replies.empty()) WriteAll(client.fd, replies);
        }
      }
      if (open) {
        kept.push_back(std::move(client));
      } else {
        close(client.fd);
      }
    }
    if (fds[0].revents & POLLIN) {
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        kept.push_back({fd, std::unique_ptr<redisReader, ReaderDeleter>(redisReaderCreate())});
      }
    }
    clients = std::move(kept);
  }
  for (const Client& c : clients) close(c.fd);
}

}  // namespace alliance::testing
