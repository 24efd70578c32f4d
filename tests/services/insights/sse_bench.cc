// SSE benchmark (scripts/bench-sse.sh runs it; not a test): opens --streams Server-Sent Events
// streams on alliance-insights' GET /api/v1/alerts/stream from one epoll thread, reports the
// service's resident memory (VmRSS of --pid) with no stream and with all of them open, then
// appends --alerts alert entries at --rate per second to the partitions' alert streams (the
// documented format, as the worker writes them) and reports the delivery latency from each XADD
// to the event's arrival on every stream (p50/p99/max). Every wait is bounded.
#include <arpa/inet.h>
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alliance/v1/common.pb.h"
#include "store/keys.h"
#include "store/redis_connection.h"
#include "tests/services/insights/bench_alerts.h"

ABSL_FLAG(int32_t, http_port, 0, "alliance-insights HTTP port (host 127.0.0.1).");
ABSL_FLAG(int32_t, redis_port, 6379, "Redis port (host 127.0.0.1).");
ABSL_FLAG(int32_t, partitions, 8, "Partitions (as the service was started with).");
ABSL_FLAG(int32_t, streams, 1000, "Concurrent SSE streams.");
ABSL_FLAG(int32_t, alerts, 200, "Alerts to append.");
ABSL_FLAG(int32_t, rate, 50, "Alerts appended per second.");
ABSL_FLAG(int32_t, pid, 0, "alliance-insights' process id, for its VmRSS.");

namespace {

using alliance::bench::NowMicros;
using alliance::bench::Percentile;

long RssKib(int pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      long kib = 0;
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(6, line.size() - 9)), &kib);
      return kib;
    }
  }
  return -1;
}

struct Conn {
  int fd = -1;
  std::string buffer;
  bool opened = false;  // the first heartbeat arrived
  int alerts = 0;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int n = absl::GetFlag(FLAGS_streams);
  const int total = absl::GetFlag(FLAGS_alerts);
  const int pid = absl::GetFlag(FLAGS_pid);
  alliance::KeyLayout layout(absl::GetFlag(FLAGS_partitions));
  alliance::RedisEndpoint endpoint;
  endpoint.port = absl::GetFlag(FLAGS_redis_port);
  auto redis = alliance::RedisConnection::Connect(endpoint);
  if (!redis.ok()) {
    std::fprintf(stderr, "redis: %s\n", std::string(redis.status().message()).c_str());
    return 1;
  }
  const long rss_idle = RssKib(pid);

  const int ep = epoll_create1(0);
  std::vector<Conn> conns(static_cast<size_t>(n));
  const std::string request =
      "GET /api/v1/alerts/stream?tenant=bench HTTP/1.1\r\nHost: bench\r\n\r\n";
  for (int i = 0; i < n; ++i) {
    Conn& c = conns[static_cast<size_t>(i)];
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(absl::GetFlag(FLAGS_http_port)));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (c.fd < 0 || connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(request.size())) {
      std::fprintf(stderr, "stream %d: connect/send failed (ulimit -n?)\n", i);
      return 1;
    }
    fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  }

  std::vector<std::atomic<int64_t>> sent_at(static_cast<size_t>(total));
  for (auto& s : sent_at) s = 0;
  std::vector<double> latencies_ms;
  latencies_ms.reserve(static_cast<size_t>(n) * static_cast<size_t>(total));
  int opened = 0;
  int closed = 0;
  // Reads what is there; events end with "\n\n" and are never split across chunks by the
  // server, so the chunk framing lines in between are simply skipped.
  auto poll_once = [&](int timeout_ms) {
    epoll_event events[256];
    const int k = epoll_wait(ep, events, 256, timeout_ms);
    const int64_t now = NowMicros();
    for (int e = 0; e < k; ++e) {
      Conn& c = conns[events[e].data.u32];
      char buf[16384];
      for (int reads = 0; reads < 64; ++reads) {
        ssize_t got = recv(c.fd, buf, sizeof buf, 0);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
          epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          ++closed;
          break;
        }
        if (got < 0) break;
        c.buffer.append(buf, static_cast<size_t>(got));
      }
      size_t end;
      while ((end = c.buffer.find("\n\n")) != std::string::npos) {
        std::string_view event(c.buffer.data(), end);
        if (!c.opened && event.find(": heartbeat ") != std::string_view::npos) {
          c.opened = true;
          ++opened;
        }
        static constexpr std::string_view kMarker = "\"alertId\":\"bench-";
        size_t at = event.find(kMarker);
        if (at != std::string_view::npos) {
          size_t from = at + kMarker.size();
          size_t to = event.find('"', from);
          int idx = -1;
          if (to != std::string_view::npos &&
              absl::SimpleAtoi(absl::string_view(event.data() + from, to - from), &idx) &&
              idx >= 0 && idx < total && sent_at[static_cast<size_t>(idx)] > 0) {
            latencies_ms.push_back(static_cast<double>(now - sent_at[static_cast<size_t>(idx)]) /
                                   1000.0);
            ++c.alerts;
          }
        }
        c.buffer.erase(0, end + 2);
      }
    }
  };
  const absl::Time open_deadline = absl::Now() + absl::Seconds(60);
  while (opened + closed < n && absl::Now() < open_deadline) poll_once(100);
  if (opened < n) {
    std::fprintf(stderr, "only %d of %d streams opened (%d closed)\n", opened, n, closed);
    return 1;
  }
  absl::SleepFor(absl::Seconds(1));
  const long rss_open = RssKib(pid);

  std::thread appender([&] {
    const absl::Duration interval = absl::Seconds(1) / absl::GetFlag(FLAGS_rate);
    absl::Time next = absl::Now();
    for (int i = 0; i < total; ++i) {
      sent_at[static_cast<size_t>(i)] = NowMicros();
      absl::Status appended = alliance::bench::AppendBenchAlert(**redis, layout, i);
      if (!appended.ok()) {
        std::fprintf(stderr, "XADD: %s\n", std::string(appended.message()).c_str());
        return;
      }
      next += interval;
      absl::SleepFor(next - absl::Now());
    }
  });
  const size_t expected = static_cast<size_t>(n) * static_cast<size_t>(total);
  const absl::Time deadline =
      absl::Now() + absl::Seconds(30) + absl::Seconds(total / absl::GetFlag(FLAGS_rate));
  long rss_peak = rss_open;
  int64_t last_rss = 0;
  while (latencies_ms.size() < expected && absl::Now() < deadline && closed < n) {
    poll_once(100);
    if (NowMicros() - last_rss > 200'000) {
      rss_peak = std::max(rss_peak, RssKib(pid));
      last_rss = NowMicros();
    }
  }
  appender.join();
  for (Conn& c : conns) close(c.fd);
  close(ep);
  if (latencies_ms.empty()) {
    std::fprintf(stderr, "no alert arrived\n");
    return 1;
  }
  const double max = *std::max_element(latencies_ms.begin(), latencies_ms.end());
  std::printf(
      "streams=%d alerts=%d rate=%d/s deliveries=%zu of %zu closed_early=%d\n"
      "insights VmRSS KiB: 0 streams %ld, %d streams %ld (%.1f KiB per stream), peak while "
      "delivering %ld\n"
      "XADD->event latency ms: p50=%.2f p99=%.2f max=%.2f\n",
      n, total, absl::GetFlag(FLAGS_rate), latencies_ms.size(), expected, closed, rss_idle, n,
      rss_open, static_cast<double>(rss_open - rss_idle) / n, rss_peak,
      Percentile(latencies_ms, 0.50), Percentile(latencies_ms, 0.99), max);
  return latencies_ms.size() == expected ? 0 : 1;
}
