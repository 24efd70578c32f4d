// Starts, breaks and heals a local Redis Cluster for integration tests.
#include "tests/support/redis_cluster.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/strings.h"
#include "store/cluster_slot.h"
#include "tests/support/redis_server.h"

namespace alliance::testing {
namespace {

// Full path of a program on PATH (ChildProcess execs a path, not a name).
std::string Which(const std::string& program) {
  const char* path = getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "/usr/bin", ':')) {
    std::string candidate = absl::StrCat(dir, "/", program);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "/usr/bin/" + program;
}

// Value of `key` in an INFO-style reply ("key:value" lines), empty when absent.
std::string InfoField(std::string_view text, std::string_view key) {
  for (absl::string_view line : absl::StrSplit(Absl(text), absl::ByAnyChar("\r\n"))) {
    if (line.size() > key.size() && line[key.size()] == ':' && Std(line).starts_with(key)) {
      return std::string(line.substr(key.size() + 1));
    }
  }
  return "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status ExpectOk(const absl::StatusOr<RedisReplyPtr>& reply, std::string_view what) {
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_ERROR) {
    return absl::InternalError(absl::StrCat(Absl(what), ": ", Absl(ReplyString(**reply))));
  }
  return absl::OkStatus();
}

}  // namespace

RedisCluster::RedisCluster() : RedisCluster(Options{}) {}

RedisCluster::RedisCluster(Options options) : options_(options) {
  char tmpl[] = "/tmp/alliance-cluster-XXXXXX";
  dir_ = mkdtemp(tmpl);
  const int count = options_.primaries * (1 + options_.replicas_per_primary);
  for (int i = 0; i < count; ++i) {
    Node node;
    node.dir = absl::StrCat(dir_, "/node", i);
    node.process = std::make_unique<ChildProcess>();
    nodes_.push_back(std::move(node));
  }
}

RedisCluster::~RedisCluster() {
  for (Node& node : nodes_) node.process->Kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

RedisEndpoint RedisCluster::endpoint(int node) const {
  RedisEndpoint e;
  e.host = "127.0.0.1";
  e.port = port(node);
  e.connect_timeout = absl::Seconds(1);
  e.command_timeout = absl::Seconds(5);
  return e;
}

std::vector<std::string> RedisCluster::Seeds() const {
  std::vector<std::string> seeds;
  for (const Node& node : nodes_) seeds.push_back(absl::StrCat("127.0.0.1:", node.port));
  return seeds;
}

int RedisCluster::NodeOfPort(int port) const {
  for (int i = 0; i < size(); ++i) {
    if (nodes_[static_cast<size_t>(i)].port == port) return i;
  }
  return -1;
}

absl::StatusOr<RedisReplyPtr> RedisCluster::Command(int node,
                                                    const std::vector<std::string_view>& args) {
  absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
      RedisConnection::Connect(endpoint(node));
  if (!connection.ok()) return connection.status();
  return (*connection)->Command(args);
}

absl::StatusOr<std::string> RedisCluster::NodeId(int node) {
  absl::StatusOr<RedisReplyPtr> reply = Command(node, {"CLUSTER", "MYID"});
  if (absl::Status s = ExpectOk(reply, "CLUSTER MYID"); !s.ok()) return s;
  return std::string(ReplyString(**reply));
}

absl::Status RedisCluster::StartNode(int index) {
  Node& node = nodes_[static_cast<size_t>(index)];
  if (node.port == 0) {
    node.port = FreePort();
    // The cluster bus port is set explicitly: port + 10000 (the default) may not exist.
    do {
      node.bus_port = FreePort();
    } while (node.bus_port == node.port);
    std::filesystem::create_directories(node.dir);
  }
  const std::vector<std::string> args = {
      "--port", std::to_string(node.port), "--bind", "127.0.0.1", "--dir", node.dir, "--save", "",
      "--appendonly", "no", "--daemonize", "no", "--loglevel", "notice", "--logfile",
      node.dir + "/redis.log", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
      "--cluster-node-timeout", std::to_string(options_.node_timeout_ms), "--cluster-port",
      std::to_string(node.bus_port),
      // The test decides where replicas go; Redis must not move them by itself.
      "--cluster-allow-replica-migration", "no",
      // A replica's full sync starts at once (the default waits 5 s for more replicas).
      "--repl-diskless-sync-delay", "0"};
  if (absl::Status s = node.process->Start(Which("redis-server"), args, node.dir + "/stdout.log");
      !s.ok()) {
    return s;
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    absl::StatusOr<RedisReplyPtr> pong = Command(index, {"PING"});
    if (pong.ok() && ReplyString(**pong) == "PONG") return absl::OkStatus();
    if (node.process->Wait(absl::ZeroDuration()).has_value()) {
      return absl::InternalError(absl::StrCat("redis-server on port ", node.port,
                                              " exited: ", ReadFile(node.dir + "/redis.log")));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("redis-server on port ", node.port, " did not answer PING within 10 s"));
}

absl::Status RedisCluster::CreateCluster(absl::Duration timeout) {
  std::vector<std::string> args = {"--cluster", "create"};
  for (const std::string& seed : Seeds()) args.push_back(seed);
  for (const char* a : {"--cluster-replicas", "", "--cluster-yes"}) args.push_back(a);
  args[args.size() - 2] = std::to_string(options_.replicas_per_primary);
  ChildProcess cli;
  const std::string log = dir_ + "/cluster-create.log";
  if (absl::Status s = cli.Start(Which("redis-cli"), args, log); !s.ok()) return s;
  std::optional<int> code = cli.Wait(timeout);
  if (!code.has_value()) {
    return absl::DeadlineExceededError(
        absl::StrCat("redis-cli --cluster create still running after ",
                     absl::FormatDuration(timeout), ": ", ReadFile(log)));
  }
  if (*code != 0) {
    return absl::InternalError(
        absl::StrCat("redis-cli --cluster create exited with ", *code, ": ", ReadFile(log)));
  }
  return absl::OkStatus();
}

absl::Status RedisCluster::Start(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (int i = 0; i < size(); ++i) {
    // A free port can be taken by another test between FreePort and the bind: fresh ports and
    // a clean folder, a few times.
    absl::Status started;
    for (int attempt = 0; attempt < 3; ++attempt) {
      started = StartNode(i);
      if (started.ok()) break;
      Node& node = nodes_[static_cast<size_t>(i)];
      node.process->Kill();
      node.port = 0;
      std::error_code ignored;
      std::filesystem::remove_all(node.dir, ignored);
    }
    if (!started.ok()) return started;
  }
  if (absl::Status s = CreateCluster(deadline - absl::Now()); !s.ok()) return s;
  return WaitFor(deadline - absl::Now(), options_.primaries * options_.replicas_per_primary);
}

absl::Status RedisCluster::Health(int expected_replicas) {
  std::optional<ClusterMap> agreed;
  int agreed_node = -1;
  int replicas = 0;
  for (int i = 0; i < size(); ++i) {
    if (!running(i)) continue;
    const std::string name = absl::StrCat("node ", i, " (port ", port(i), ")");
    absl::StatusOr<RedisReplyPtr> info = Command(i, {"CLUSTER", "INFO"});
    if (absl::Status s = ExpectOk(info, "CLUSTER INFO"); !s.ok()) return s;
    const std::string state = InfoField(ReplyString(**info), "cluster_state");
    const std::string slots_ok = InfoField(ReplyString(**info), "cluster_slots_ok");
    if (state != "ok" || slots_ok != std::to_string(kClusterSlots)) {
      return absl::UnavailableError(
          absl::StrCat(name, ": cluster_state:", state, " cluster_slots_ok:", slots_ok));
    }
    absl::StatusOr<RedisReplyPtr> slots = Command(i, {"CLUSTER", "SLOTS"});
    if (!slots.ok()) return slots.status();
    absl::StatusOr<ClusterMap> map = ClusterMap::FromClusterSlots(**slots, "127.0.0.1");
    if (!map.ok()) return map.status();
    if (map->covered_slots() != kClusterSlots) {
      return absl::UnavailableError(absl::StrCat(name, ": map serves ", map->covered_slots()));
    }
    for (const NodeAddress& primary : map->Primaries()) {
      const int owner = NodeOfPort(primary.port);
      if (owner < 0 || !running(owner)) {
        return absl::UnavailableError(
            absl::StrCat(name, ": map names ", primary.ToString(), ", not running, a primary"));
      }
    }
    if (!agreed.has_value()) {
      agreed = *std::move(map);
      agreed_node = i;
    } else {
      for (int slot = 0; slot < kClusterSlots; ++slot) {
        if (!(*agreed->PrimaryOf(slot) == *map->PrimaryOf(slot))) {
          return absl::UnavailableError(
              absl::StrCat(name, " and node ", agreed_node, " disagree on slot ", slot));
        }
      }
    }
    absl::StatusOr<RedisReplyPtr> replication = Command(i, {"INFO", "replication"});
    if (absl::Status s = ExpectOk(replication, "INFO replication"); !s.ok()) return s;
    if (InfoField(ReplyString(**replication), "role") == "slave") {
      ++replicas;
      if (InfoField(ReplyString(**replication), "master_link_status") != "up") {
        return absl::UnavailableError(absl::StrCat(name, ": replica not in sync"));
      }
    }
  }
  if (expected_replicas >= 0 && replicas != expected_replicas) {
    return absl::UnavailableError(
        absl::StrCat(replicas, " replicas in sync, ", expected_replicas, " expected"));
  }
  return absl::OkStatus();
}

absl::Status RedisCluster::WaitFor(absl::Duration timeout, int expected_replicas) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last;
  while (true) {
    last = Health(expected_replicas);
    if (last.ok()) return last;
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "cluster not healthy after ", absl::FormatDuration(timeout), ": ", last.message()));
}

absl::Status RedisCluster::WaitHealthy(absl::Duration timeout) { return WaitFor(timeout, -1); }

absl::StatusOr<ClusterMap> RedisCluster::Map() {
  absl::Status last = absl::UnavailableError("no node running");
  for (int i = 0; i < size(); ++i) {
    if (!running(i)) continue;
    absl::StatusOr<RedisReplyPtr> slots = Command(i, {"CLUSTER", "SLOTS"});
    if (!slots.ok()) {
      last = slots.status();
      continue;
    }
    return ClusterMap::FromClusterSlots(**slots, "127.0.0.1");
  }
  return last;
}

absl::StatusOr<int> RedisCluster::PrimaryOf(int slot) {
  absl::StatusOr<ClusterMap> map = Map();
  if (!map.ok()) return map.status();
  const NodeAddress* primary = map->PrimaryOf(slot);
  if (primary == nullptr) return absl::NotFoundError(absl::StrCat("slot ", slot, " not served"));
  return NodeOfPort(primary->port);
}

absl::StatusOr<int> RedisCluster::ReplicaOf(int node) {
  for (int i = 0; i < size(); ++i) {
    if (i == node || !running(i)) continue;
    absl::StatusOr<RedisReplyPtr> replication = Command(i, {"INFO", "replication"});
    if (!replication.ok()) continue;
    const std::string_view text = ReplyString(**replication);
    if (InfoField(text, "role") == "slave" &&
        InfoField(text, "master_port") == std::to_string(port(node))) {
      return i;
    }
  }
  return absl::NotFoundError(absl::StrCat("no replica of node ", node));
}

void RedisCluster::Kill(int node) { nodes_[static_cast<size_t>(node)].process->Kill(); }

absl::Status RedisCluster::Restart(int node, absl::Duration timeout) {
  Kill(node);
  if (absl::Status s = StartNode(node); !s.ok()) return s;
  bool all_running = true;
  for (int i = 0; i < size(); ++i) all_running = all_running && running(i);
  return WaitFor(timeout, all_running ? options_.primaries * options_.replicas_per_primary : -1);
}

absl::Status RedisCluster::Failover(int node, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  // Redis gives up a manual failover it could not finish within 5 s (the primary's paused offset
  // or the primaries' votes came late, as on a loaded machine) without a word; the replica stays
  // a replica. Asking again after that, until the deadline, is what an operator does.
  const absl::Duration attempt_length = absl::Seconds(6);
  int attempts = 0;
  while (absl::Now() < deadline) {
    if (absl::Status s = ExpectOk(Command(node, {"CLUSTER", "FAILOVER"}), "CLUSTER FAILOVER");
        !s.ok()) {
      return s;
    }
    ++attempts;
    const absl::Time attempt_end = std::min(deadline, absl::Now() + attempt_length);
    while (absl::Now() < attempt_end) {
      absl::StatusOr<RedisReplyPtr> replication = Command(node, {"INFO", "replication"});
      if (replication.ok() && InfoField(ReplyString(**replication), "role") == "master") {
        return WaitHealthy(deadline - absl::Now());
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "node ", node, " not promoted after ", attempts, " CLUSTER FAILOVER requests; its log: ",
      ReadFile(nodes_[static_cast<size_t>(node)].dir + "/redis.log")));
}

absl::Status RedisCluster::BeginMigration(int slot, int from, int to) {
  absl::StatusOr<std::string> from_id = NodeId(from);
  absl::StatusOr<std::string> to_id = NodeId(to);
  if (!from_id.ok()) return from_id.status();
  if (!to_id.ok()) return to_id.status();
  const std::string s = std::to_string(slot);
  if (absl::Status st =
          ExpectOk(Command(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", *from_id}), "IMPORTING");
      !st.ok()) {
    return st;
  }
  return ExpectOk(Command(from, {"CLUSTER", "SETSLOT", s, "MIGRATING", *to_id}), "MIGRATING");
}

absl::Status RedisCluster::MigrateKeys(int slot, int from, int to,
                                       const std::vector<std::string>& keys) {
  const std::string to_port = std::to_string(port(to));
  auto migrate = [&](const std::vector<std::string>& batch) {
    std::vector<std::string_view> args = {"MIGRATE", "127.0.0.1", to_port, "", "0", "5000", "KEYS"};
    for (const std::string& key : batch) args.push_back(key);
    return ExpectOk(Command(from, args), "MIGRATE");
  };
  if (!keys.empty()) return migrate(keys);
  // Bounded: every round moves what is left, up to 100 keys; the slot empties.
  for (int round = 0; round < 10000; ++round) {
    absl::StatusOr<RedisReplyPtr> batch =
        Command(from, {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "100"});
    if (absl::Status s = ExpectOk(batch, "GETKEYSINSLOT"); !s.ok()) return s;
    if ((*batch)->type != REDIS_REPLY_ARRAY) return absl::InternalError("GETKEYSINSLOT reply");
    if ((*batch)->elements == 0) return absl::OkStatus();
    std::vector<std::string> names;
    for (size_t i = 0; i < (*batch)->elements; ++i) {
      names.emplace_back(ReplyString(*(*batch)->element[i]));
    }
    if (absl::Status s = migrate(names); !s.ok()) return s;
  }
  return absl::InternalError("slot did not empty");
}

absl::Status RedisCluster::FinishMigration(int slot, int from, int to, absl::Duration timeout) {
  absl::StatusOr<std::string> to_id = NodeId(to);
  if (!to_id.ok()) return to_id.status();
  absl::StatusOr<ClusterMap> before = Map();
  if (!before.ok()) return before.status();
  // The destination first, then the source, then the other primaries (the order Redis's own
  // resharding uses: the slot is never without an owner that has its keys).
  std::vector<int> order = {to, from};
  for (const NodeAddress& primary : before->Primaries()) {
    const int node = NodeOfPort(primary.port);
    if (node >= 0 && node != to && node != from) order.push_back(node);
  }
  for (int node : order) {
    if (absl::Status s = ExpectOk(
            Command(node, {"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", *to_id}), "SETSLOT");
        !s.ok()) {
      return s;
    }
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    bool agreed = true;
    for (int i = 0; i < size() && agreed; ++i) {
      if (!running(i)) continue;
      absl::StatusOr<RedisReplyPtr> slots = Command(i, {"CLUSTER", "SLOTS"});
      if (!slots.ok()) return slots.status();
      absl::StatusOr<ClusterMap> map = ClusterMap::FromClusterSlots(**slots, "127.0.0.1");
      agreed =
          map.ok() && map->PrimaryOf(slot) != nullptr && map->PrimaryOf(slot)->port == port(to);
    }
    if (agreed) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("nodes do not agree that slot ", slot, " moved to node ", to));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

absl::Status RedisCluster::MoveSlot(int slot, int to) {
  absl::StatusOr<int> from = PrimaryOf(slot);
  if (!from.ok()) return from.status();
  if (*from == to) return absl::OkStatus();
  if (absl::Status s = BeginMigration(slot, *from, to); !s.ok()) return s;
  if (absl::Status s = MigrateKeys(slot, *from, to); !s.ok()) return s;
  return FinishMigration(slot, *from, to);
}

}  // namespace alliance::testing
