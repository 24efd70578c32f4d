// alliance-cluster-bench: the figures of scripts/bench-cluster.sh that need the test fixtures
// (a local Redis Cluster of tests/support/redis_cluster.h, the worker tests' workload).
// --mode=worker: one real alliance-worker drains a pre-filled backlog (--ratings over --dyads,
//   week by week) on a single redis-server, then on the cluster with --redis_wait_replicas=0
//   and with 1 (the cluster default), each on fresh Redis processes; prints ratings/s, the
//   worker's CPU per rating and Redis's, in all and per node (primaries, then replicas).
// --mode=failover: intake, worker and insights in cluster mode; dyads whose partition is on one
//   primary get three steady sessions, a watch stream opens, then that primary is SIGKILLed and
//   a rupture rating (session 4) of each of those dyads is submitted, retried on UNAVAILABLE
//   with its idempotency id. Prints the time from the kill to the first acknowledged submission
//   and to the first of their alerts on the watch stream, for --repetitions fresh clusters,
//   then the median and max.
// Not a test: it prints figures. Loopback only; every process is stopped on exit.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "alliance/v1/intake.grpc.pb.h"
#include "store/cluster_client.h"
#include "store/cluster_slot.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/worker/worker_fixture.h"

ABSL_FLAG(std::string, mode, "worker", "'worker' or 'failover'.");
ABSL_FLAG(int32_t, ratings, 40000, "worker: ratings pre-filled.");
ABSL_FLAG(int32_t, dyads, 2000, "worker: dyads the ratings are spread over.");
ABSL_FLAG(int32_t, partitions, 8, "Feedback partitions.");
ABSL_FLAG(int32_t, repetitions, 5, "failover: fresh clusters, one kill each.");
ABSL_FLAG(int32_t, replicas, 1, "failover: replicas per primary.");
ABSL_FLAG(int32_t, wait_replicas, -1,
          "failover: --redis_wait_replicas of intake and worker; -1: their default (1 in cluster "
          "mode).");
ABSL_FLAG(int32_t, probe_dyads, 12, "failover: dyads on the killed primary's slots.");

namespace alliance::testing {
namespace {

// CPU seconds (user + system) a process has used so far; 0 when it is gone.
double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields = absl::StrSplit(text.substr(close + 2), ' ');
  if (fields.size() < 13) return 0;
  return (std::stod(fields[11]) + std::stod(fields[12])) / sysconf(_SC_CLK_TCK);
}

pid_t PidOf(const absl::StatusOr<RedisReplyPtr>& info) {
  if (!info.ok()) return 0;
  const std::string_view text = ReplyString(**info);
  const size_t at = text.find("process_id:");
  if (at == std::string_view::npos) return 0;
  return static_cast<pid_t>(std::atoi(std::string(text.substr(at + 11, 12)).c_str()));
}

// ---- worker: a pre-filled backlog drained by one worker.

struct Node {
  std::string role;  // "primary" or "replica"
  pid_t pid = 0;
  double cpu0 = 0;
};

void PrintWorkerCase(const std::string& name, size_t ratings, double seconds, double worker_cpu,
                     const std::vector<Node>& nodes) {
  double redis_total = 0;
  std::vector<std::string> per_node;
  for (const Node& n : nodes) {
    const double cpu = CpuSeconds(n.pid) - n.cpu0;
    redis_total += cpu;
    per_node.push_back(absl::StrFormat("%s %.1f", n.role, 1e6 * cpu / ratings));
  }
  std::printf(
      "%-16s ratings/s=%-7.0f worker cpu/rating=%-5.1f us  redis cpu/rating=%-5.1f us  per node "
      "(us/rating): %s\n",
      name.c_str(), ratings / seconds, 1e6 * worker_cpu / ratings, 1e6 * redis_total / ratings,
      absl::StrJoin(per_node, ", ").c_str());
  std::fflush(stdout);
}

// Starts one worker with `extra` flags, waits until the backlog is drained (bounded: 300 s) and
// prints the case. `nodes` have their CPU baselines set.
bool DrainWithWorker(const std::string& name, int redis_port, const std::vector<std::string>& extra,
                     const KeyedCommand& redis, const KeyLayout& layout, size_t ratings,
                     std::vector<Node>& nodes) {
  std::vector<std::string> args = WorkerArgs(redis_port, layout.partitions(), "bench-" + name);
  args.push_back("--log_level=warning");
  args.push_back("--batch_size=256");
  args.insert(args.end(), extra.begin(), extra.end());
  for (Node& n : nodes) n.cpu0 = CpuSeconds(n.pid);
  ChildProcess worker;
  const absl::Time start = absl::Now();
  if (!StartWorker(worker, args, "cluster-bench-" + name).ok()) return false;
  absl::Status drained = WaitForDrained(redis, layout, absl::Seconds(300));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double worker_cpu = CpuSeconds(worker.pid());
  if (!drained.ok()) {
    std::fprintf(stderr, "%s: %s\n%s\n", name.c_str(), std::string(drained.message()).c_str(),
                 worker.ReadLog().c_str());
    return false;
  }
  PrintWorkerCase(name, ratings, seconds, worker_cpu, nodes);
  worker.Signal(SIGTERM);
  worker.Wait(absl::Seconds(10));
  return true;
}

int RunWorker() {
  const KeyLayout layout(absl::GetFlag(FLAGS_partitions));
  const int dyads = absl::GetFlag(FLAGS_dyads);
  const int sessions = std::max(1, absl::GetFlag(FLAGS_ratings) / dyads);
  const std::vector<Submission> work =
      Workload(1, WorkloadShape{dyads, sessions, /*tenants=*/4, /*therapists=*/211,
                                /*duplicates=*/0});
  std::printf("backlog: %zu ratings, %d dyads x %d sessions, week by week; %d partitions\n",
              work.size(), dyads, sessions, layout.partitions());

  {  // A single redis-server.
    RedisServer server;
    if (!server.Start().ok()) return 1;
    auto redis = RedisConnection::Connect(server.endpoint());
    if (!redis.ok()) return 1;
    for (size_t i = 0; i < work.size(); i += 1000) {
      std::vector<Submission> chunk(work.begin() + i,
                                    work.begin() + std::min(work.size(), i + 1000));
      if (!Feed(**redis, layout, chunk).ok()) return 1;
    }
    std::vector<Node> nodes = {{"single", PidOf((*redis)->Command({"INFO", "server"}))}};
    if (!DrainWithWorker("single-redis", server.port(), {}, OnConnection(**redis), layout,
                         work.size(), nodes)) {
      return 1;
    }
  }
  for (int wait : {0, 1}) {  // The cluster, fresh for each case.
    RedisCluster cluster;
    if (absl::Status s = cluster.Start(); !s.ok()) {
      std::fprintf(stderr, "cluster: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    ClusterOptions options;
    options.seeds = cluster.Seeds();
    auto client = ClusterClient::Connect(options);
    if (!client.ok()) return 1;
    // Per partition, its entries in exchanges of 1,000 XADDs with the partition's primary.
    std::map<int, std::vector<const Submission*>> by_partition;
    for (const Submission& s : work) {
      by_partition[layout.PartitionOf(s.tenant, s.therapist, s.client)].push_back(&s);
    }
    for (const auto& [p, subs] : by_partition) {
      const std::string stream = layout.FeedbackStream(p);
      for (size_t i = 0; i < subs.size(); i += 1000) {
        std::vector<std::string> entries;
        std::vector<CommandArgs> commands;
        const size_t end = std::min(subs.size(), i + 1000);
        for (size_t k = i; k < end; ++k) entries.push_back(EncodeEntry(*subs[k]));
        for (size_t k = i; k < end; ++k) {
          commands.push_back({"XADD", stream, "*", "v", "1", "tenant", subs[k]->tenant,
                              "accepted_id", subs[k]->accepted_id, "entry", entries[k - i]});
        }
        if (!(*client)->Exchange(KeySlot(stream), commands).ok()) return 1;
      }
    }
    absl::SleepFor(absl::Seconds(1));  // the replicas take the backlog before the baseline
    std::vector<Node> nodes;
    for (const std::string role : {"primary", "replica"}) {
      for (int n = 0; n < cluster.size(); ++n) {
        absl::StatusOr<RedisReplyPtr> replication = cluster.Command(n, {"INFO", "replication"});
        if (!replication.ok()) continue;
        const bool primary = ReplyString(**replication).find("role:master") != std::string::npos;
        if (primary == (role == "primary")) {
          nodes.push_back({role, PidOf(cluster.Command(n, {"INFO", "server"}))});
        }
      }
    }
    const std::string name = wait == 0 ? "cluster-no-wait" : "cluster-wait-1";
    if (!DrainWithWorker(name, cluster.port(0),
                         {absl::StrCat("--redis_cluster_nodes=", absl::StrJoin(options.seeds, ",")),
                          absl::StrCat("--redis_wait_replicas=", wait)},
                         OnCluster(**client), layout, work.size(), nodes)) {
      return 1;
    }
  }
  return 0;
}

// ---- failover: a primary killed under intake, worker and insights.

using google::protobuf::util::TimeUtil;
constexpr char kTenant[] = "bench-failover";

// An SRS rating of `client` whose four lines add up to `total`.
v1::Feedback SrsFeedback(const std::string& client, int session, double total) {
  v1::Feedback f;
  f.set_tenant_id(kTenant);
  f.set_idempotency_id(absl::StrCat(client, "-", session));
  f.set_therapist_id("th-1");
  f.set_client_id(client);
  f.set_session_id(absl::StrCat("s", session));
  f.set_session_number(session);
  *f.mutable_session_time() =
      TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(absl::Now()) - (20 - session) * 7 * 86400);
  f.set_rater(v1::RATER_CLIENT);
  f.set_instrument_id("srs");
  const int tenths = static_cast<int>(total * 10 + 0.5);
  for (int item = 1; item <= 4; ++item) {
    v1::ItemAnswer* a = f.add_answers();
    a->set_item(item);
    a->set_value((tenths / 4 + (item <= tenths % 4 ? 1 : 0)) / 10.0);
  }
  return f;
}

// Submits until acknowledged, retrying UNAVAILABLE; false on another answer or after `limit`.
bool SubmitUntilAcknowledged(v1::FeedbackIntake::Stub& stub, const v1::Feedback& f,
                             absl::Duration limit) {
  const absl::Time deadline = absl::Now() + limit;
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::SubmitFeedbackRequest request;
    *request.mutable_feedback() = f;
    v1::SubmitFeedbackResponse response;
    grpc::Status status = stub.SubmitFeedback(&context, request, &response);
    if (status.ok()) return true;
    if (status.error_code() != grpc::UNAVAILABLE) {
      std::fprintf(stderr, "submission answered %d: %s\n", status.error_code(),
                   status.error_message().c_str());
      return false;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

struct FailoverTimes {
  double promoted_s = -1, ack_s = -1, alert_s = -1;
  int unavailable = 0;
};

absl::StatusOr<FailoverTimes> FailoverOnce(int replicas, int wait_replicas, int probes) {
  const KeyLayout layout(absl::GetFlag(FLAGS_partitions));
  RedisCluster::Options cluster_options;
  cluster_options.replicas_per_primary = replicas;
  RedisCluster cluster(cluster_options);
  if (absl::Status s = cluster.Start(); !s.ok()) return s;
  std::vector<std::string> common = {
      absl::StrCat("--redis_cluster_nodes=", absl::StrJoin(cluster.Seeds(), ",")),
      absl::StrCat("--partitions=", layout.partitions()), "--log_level=warning"};
  if (wait_replicas >= 0) common.push_back(absl::StrCat("--redis_wait_replicas=", wait_replicas));
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), common.begin(), common.end());
    return args;
  };
  const int intake_port = FreePort(), insights_port = FreePort();
  ChildProcess intake, worker, insights;
  const std::string dir = cluster.dir();
  if (!intake
           .Start(BinaryPath("alliance-intake"),
                  with({absl::StrCat("--grpc_port=", intake_port), "--auth_disabled"}),
                  dir + "/intake.log")
           .ok() ||
      !worker
           .Start(BinaryPath("alliance-worker"), with({"--worker_id=bench-w", "--block_ms=50"}),
                  dir + "/worker.log")
           .ok() ||
      !insights
           .Start(BinaryPath("alliance-insights"),
                  with({absl::StrCat("--grpc_port=", insights_port), "--auth_disabled",
                        "--heartbeat_ms=1000"}),
                  dir + "/insights.log")
           .ok()) {
    return absl::InternalError("a deployable did not start");
  }
  if (!WaitForPort(intake_port, absl::Seconds(20)).ok() ||
      !WaitForPort(insights_port, absl::Seconds(20)).ok()) {
    return absl::InternalError("a deployable did not listen");
  }
  auto intake_stub = v1::FeedbackIntake::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", intake_port), grpc::InsecureChannelCredentials()));
  auto insights_stub = v1::AllianceInsights::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", insights_port), grpc::InsecureChannelCredentials()));

  // Dyads whose partition is on the primary of partition 0's slot.
  absl::StatusOr<int> victim = cluster.PrimaryOf(KeySlot(layout.FeedbackStream(0)));
  if (!victim.ok()) return victim.status();
  std::vector<std::string> clients;
  for (int i = 0; static_cast<int>(clients.size()) < probes && i < 10000; ++i) {
    const std::string client = absl::StrCat("probe-", i);
    const int p = layout.PartitionOf(kTenant, "th-1", client);
    absl::StatusOr<int> primary = cluster.PrimaryOf(KeySlot(layout.FeedbackStream(p)));
    if (primary.ok() && *primary == *victim) clients.push_back(client);
  }
  // Three steady sessions each (38, 38.5, 38 of 40), applied before the kill.
  for (const std::string& client : clients) {
    for (int session = 1; session <= 3; ++session) {
      if (!SubmitUntilAcknowledged(*intake_stub, SrsFeedback(client, session, 37.5 + session % 2),
                                   absl::Seconds(20))) {
        return absl::InternalError("warm-up submission failed");
      }
    }
  }
  ClusterOptions client_options;
  client_options.seeds = cluster.Seeds();
  auto client = ClusterClient::Connect(client_options);
  if (!client.ok()) return client.status();
  if (absl::Status s = WaitForDrained(OnCluster(**client), layout, absl::Seconds(30)); !s.ok()) {
    return s;
  }

  // The watch stream, then the kill.
  v1::WatchAlertsRequest request;
  request.set_tenant_id(kTenant);
  std::unique_ptr<grpc::ClientContext> watch_context;
  std::unique_ptr<grpc::ClientReader<v1::WatchAlertsResponse>> reader;
  for (int i = 0; i < 100 && reader == nullptr; ++i) {
    // The alert reader may not have reached the cluster yet: UNAVAILABLE until it has.
    watch_context = std::make_unique<grpc::ClientContext>();
    watch_context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    reader = insights_stub->WatchAlerts(watch_context.get(), request);
    v1::WatchAlertsResponse first;  // the heartbeat with the starting cursor
    if (!reader->Read(&first)) {
      (void)reader->Finish();
      reader.reset();
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  if (reader == nullptr) return absl::InternalError("no watch stream");
  std::atomic<int64_t> first_alert_ns{0};
  std::thread watcher([&] {
    v1::WatchAlertsResponse m;
    while (reader->Read(&m)) {
      if (!m.heartbeat() && m.alert().kind() == v1::ALERT_KIND_RUPTURE) {
        int64_t expected = 0;
        first_alert_ns.compare_exchange_strong(expected, absl::GetCurrentTimeNanos());
        return;
      }
    }
  });

  // Its replicas (any of them may win the election).
  std::vector<int> standby;
  for (int n = 0; n < cluster.size(); ++n) {
    absl::StatusOr<RedisReplyPtr> info = cluster.Command(n, {"INFO", "replication"});
    if (n != *victim && info.ok() &&
        ReplyString(**info).find(absl::StrCat("master_port:", cluster.port(*victim), "\r")) !=
            std::string::npos) {
      standby.push_back(n);
    }
  }
  if (standby.empty()) return absl::InternalError("the primary has no replica");
  const absl::Time killed = absl::Now();
  cluster.Kill(*victim);
  // When a replica calls itself a primary (polled every 10 ms, bounded: 30 s): the cluster's
  // share of the times below; the rest is the clients finding out.
  std::atomic<int64_t> promoted_ns{0};
  std::thread promotion([&] {
    while (absl::Now() - killed < absl::Seconds(30)) {
      for (int n : standby) {
        absl::StatusOr<RedisReplyPtr> role = cluster.Command(n, {"ROLE"});
        if (role.ok() && (*role)->type == REDIS_REPLY_ARRAY && (*role)->elements > 0 &&
            ReplyString(*(*role)->element[0]) == "master") {
          promoted_ns = absl::GetCurrentTimeNanos();
          return;
        }
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
  });
  // Each probe's rupture rating (28.5: below the cutoff, a reliable drop), on its own thread
  // so that an acknowledgement anywhere is seen when it happens.
  std::atomic<int64_t> first_ack_ns{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> submitters;
  for (size_t t = 0; t < 4; ++t) {
    submitters.emplace_back([&, t] {
      for (size_t i = t; i < clients.size(); i += 4) {
        if (!SubmitUntilAcknowledged(*intake_stub, SrsFeedback(clients[i], 4, 28.5),
                                     absl::Seconds(40))) {
          ++failed;
          return;
        }
        int64_t expected = 0;
        first_ack_ns.compare_exchange_strong(expected, absl::GetCurrentTimeNanos());
      }
    });
  }
  for (std::thread& t : submitters) t.join();
  promotion.join();
  const absl::Time alert_deadline = absl::Now() + absl::Seconds(30);
  while (first_alert_ns.load() == 0 && absl::Now() < alert_deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  watch_context->TryCancel();
  watcher.join();
  (void)reader->Finish();
  FailoverTimes times;
  if (promoted_ns.load() != 0) {
    times.promoted_s = absl::ToDoubleSeconds(absl::FromUnixNanos(promoted_ns.load()) - killed);
  }
  if (first_ack_ns.load() != 0) {
    times.ack_s = absl::ToDoubleSeconds(absl::FromUnixNanos(first_ack_ns.load()) - killed);
  }
  if (first_alert_ns.load() != 0) {
    times.alert_s = absl::ToDoubleSeconds(absl::FromUnixNanos(first_alert_ns.load()) - killed);
  }
  for (ChildProcess* p : {&intake, &worker, &insights}) p->Signal(SIGTERM);
  for (ChildProcess* p : {&intake, &worker, &insights}) p->Wait(absl::Seconds(15));
  if (failed.load() > 0 || times.promoted_s < 0 || times.ack_s < 0 || times.alert_s < 0) {
    return absl::InternalError(
        absl::StrCat("no promotion, acknowledgement or alert after the kill\n", intake.ReadLog(),
                     worker.ReadLog(), insights.ReadLog()));
  }
  return times;
}

int RunFailover() {
  const int replicas = absl::GetFlag(FLAGS_replicas);
  const int wait = absl::GetFlag(FLAGS_wait_replicas);
  std::printf(
      "failover: 3 primaries x %d replicas, node timeout 1 s, intake/worker WAIT %s, %d "
      "probe dyads\n",
      replicas, wait < 0 ? "default (1)" : std::to_string(wait).c_str(),
      absl::GetFlag(FLAGS_probe_dyads));
  std::vector<double> promotions, acks, alerts;
  for (int r = 0; r < absl::GetFlag(FLAGS_repetitions); ++r) {
    absl::StatusOr<FailoverTimes> times =
        FailoverOnce(replicas, wait, absl::GetFlag(FLAGS_probe_dyads));
    if (!times.ok()) {
      std::fprintf(stderr, "repetition %d: %s\n", r + 1,
                   std::string(times.status().message()).c_str());
      return 1;
    }
    std::printf(
        "  run %d: kill -> replica promoted %.2f s, -> next acknowledged submission %.2f s, -> "
        "next alert on the watch stream %.2f s\n",
        r + 1, times->promoted_s, times->ack_s, times->alert_s);
    std::fflush(stdout);
    promotions.push_back(times->promoted_s);
    acks.push_back(times->ack_s);
    alerts.push_back(times->alert_s);
  }
  auto summary = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return absl::StrFormat("median %.2f s, max %.2f s", v[v.size() / 2], v.back());
  };
  std::printf(
      "failover replicas=%d: replica promoted %s; next acknowledged submission %s; next alert "
      "%s\n",
      replicas, summary(promotions).c_str(), summary(acks).c_str(), summary(alerts).c_str());
  return 0;
}

}  // namespace
}  // namespace alliance::testing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "worker") return alliance::testing::RunWorker();
  if (mode == "failover") return alliance::testing::RunFailover();
  std::fprintf(stderr, "--mode: 'worker' or 'failover'\n");
  return 2;
}
