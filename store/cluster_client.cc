// The Redis Cluster client: routing by slot, the redirection and retry loop of one call, slot
// map refreshes, and per-primary walks.
#include "store/cluster_client.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/strings.h"
#include "store/cluster_slot.h"
#include "store/lua_scripts.h"

namespace alliance {
namespace {

// Error replies after which the same command is sent again once the cluster settles: a
// multi-key command during a migration (TRYAGAIN), a cluster without a quorum or with
// unserved slots (CLUSTERDOWN), a node loading its data set (LOADING).
bool IsTransient(std::string_view error) {
  return error.starts_with("TRYAGAIN") || error.starts_with("CLUSTERDOWN") ||
         error.starts_with("LOADING");
}

bool IsEvalSha(const CommandArgs& args) {
  return args.size() >= 2 && absl::EqualsIgnoreCase(Absl(args[0]), "EVALSHA");
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClusterClient>> ClusterClient::Connect(ClusterOptions options) {
  if (options.seeds.empty()) return absl::InvalidArgumentError("redis cluster: no seed nodes");
  for (const std::string& seed : options.seeds) {
    if (absl::StatusOr<NodeAddress> a = ParseNodeAddress(seed, ""); !a.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("redis cluster seed: ", a.status().message()));
    }
  }
  std::unique_ptr<ClusterClient> client(new ClusterClient(std::move(options)));
  if (absl::Status s = client->RefreshMap(); !s.ok()) return s;
  return client;
}

RedisEndpoint ClusterClient::EndpointOf(const NodeAddress& node) const {
  RedisEndpoint endpoint;
  endpoint.host = node.host;
  endpoint.port = node.port;
  endpoint.password = options_.password;
  endpoint.connect_timeout = options_.connect_timeout;
  endpoint.command_timeout = options_.command_timeout;
  return endpoint;
}

absl::StatusOr<RedisConnection*> ClusterClient::ConnectionTo(const NodeAddress& node) {
  std::unique_ptr<RedisConnection>& slot = connections_[node.ToString()];
  // A connection that owes replies (it never should: every call reads all of its own) would
  // hand them to the next command, so it is replaced like a broken one.
  if (slot != nullptr && (slot->broken() || slot->pending_replies() != 0)) slot.reset();
  if (slot == nullptr) {
    absl::StatusOr<std::unique_ptr<RedisConnection>> made =
        RedisConnection::Connect(EndpointOf(node));
    if (!made.ok()) {
      connections_.erase(node.ToString());
      return made.status();
    }
    slot = *std::move(made);
  }
  return slot.get();
}

void ClusterClient::DropConnection(const NodeAddress& node) { connections_.erase(node.ToString()); }

absl::Status ClusterClient::RefreshMap() {
  std::vector<NodeAddress> candidates = map_.Nodes();
  for (const std::string& seed : options_.seeds) {
    absl::StatusOr<NodeAddress> address = ParseNodeAddress(seed, "");
    if (address.ok() &&
        std::find(candidates.begin(), candidates.end(), *address) == candidates.end()) {
      candidates.push_back(*std::move(address));
    }
  }
  std::optional<ClusterMap> best;
  std::string problems;
  // Bounded: one connect and one command per candidate, each with its timeout.
  for (const NodeAddress& node : candidates) {
    auto problem = [&](std::string_view what) {
      absl::StrAppend(&problems, problems.empty() ? "" : "; ", node.ToString(), ": ", Absl(what));
    };
    absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
        RedisConnection::Connect(EndpointOf(node));
    if (!connection.ok()) {
      problem(Std(connection.status().message()));
      continue;
    }
    absl::StatusOr<RedisReplyPtr> reply = (*connection)->Command({"CLUSTER", "SLOTS"});
    if (!reply.ok()) {
      problem(Std(reply.status().message()));
      continue;
    }
    absl::StatusOr<ClusterMap> parsed = ClusterMap::FromClusterSlots(**reply, node.host);
    if (!parsed.ok()) {
      problem(Std(parsed.status().message()));
      continue;
    }
    if (parsed->covered_slots() == 0) {
      problem("its slot map serves no slot");
      continue;
    }
    if (!best.has_value() || parsed->covered_slots() > best->covered_slots()) {
      best = *std::move(parsed);
    }
    if (best->covered_slots() == kClusterSlots) break;
  }
  if (!best.has_value()) {
    ++stats_.refresh_failures;
    return absl::UnavailableError(
        absl::StrCat("redis cluster: no node gave a usable slot map (", problems, ")"));
  }
  map_ = *std::move(best);
  map_time_ = absl::Now();
  ++stats_.refreshes;
  // Connections to nodes that no longer serve slots are closed (a demoted primary, a removed
  // node); the pool holds at most one connection per primary.
  const std::vector<NodeAddress> primaries = map_.Primaries();
  std::erase_if(connections_, [&](const auto& entry) {
    return std::none_of(primaries.begin(), primaries.end(),
                        [&](const NodeAddress& p) { return p.ToString() == entry.first; });
  });
  return absl::OkStatus();
}

void ClusterClient::MaybeRefresh() {
  if (options_.refresh_interval > absl::ZeroDuration() &&
      absl::Now() - map_time_ >= options_.refresh_interval) {
    // A failed refresh keeps the old map; the call finds out itself whether it still works.
    (void)RefreshMap();
  }
}

bool ClusterClient::Backoff(int* retries, absl::Time deadline) {
  if (*retries >= options_.max_retries) return false;
  absl::Duration wait = options_.retry_backoff;
  for (int i = 0; i < *retries && wait < options_.max_backoff; ++i) wait *= 2;
  wait = std::min(wait, options_.max_backoff);
  if (absl::Now() + wait > deadline) return false;
  ++*retries;
  absl::SleepFor(wait);
  return true;
}

absl::Status ClusterClient::Unavailable(int slot, std::string_view problem) {
  ++stats_.unavailable;
  return absl::UnavailableError(
      slot < 0 ? absl::StrCat("redis cluster: ", Absl(problem))
               : absl::StrCat("redis cluster, slot ", slot, ": ", Absl(problem)));
}

absl::StatusOr<RedisReplyPtr> ClusterClient::Command(int slot, const CommandArgs& args) {
  std::vector<RedisReplyPtr> replies;
  if (absl::Status s = Run(slot, std::span<const CommandArgs>(&args, 1), replies); !s.ok()) {
    return s;
  }
  return std::move(replies[0]);
}

absl::StatusOr<std::vector<RedisReplyPtr>> ClusterClient::Exchange(
    int slot, std::span<const CommandArgs> commands) {
  std::vector<RedisReplyPtr> replies;
  if (absl::Status s = Run(slot, commands, replies); !s.ok()) return s;
  return replies;
}

absl::Status ClusterClient::Run(int slot, std::span<const CommandArgs> commands,
                                std::vector<RedisReplyPtr>& replies) {
  if (slot < 0 || slot >= kClusterSlots) {
    return absl::InvalidArgumentError(absl::StrCat("redis cluster: slot ", slot, " out of range"));
  }
  replies.clear();
  replies.resize(commands.size());
  if (commands.empty()) return absl::OkStatus();
  MaybeRefresh();
  const absl::Time deadline = absl::Now() + options_.call_timeout;
  std::vector<size_t> pending(commands.size());  // commands still without a final reply
  std::iota(pending.begin(), pending.end(), size_t{0});
  std::optional<NodeAddress> target;  // where the next round goes, when not the map's primary
  bool asking = false;                // the next round is an ASK redirection
  int redirects = 0;
  int retries = 0;
  std::set<std::string, std::less<>> reloaded;  // scripts loaded again during this call
  std::string problem;

  // Bounded: every round either ends the call, or uses up a redirection (max_redirects), a
  // retry (max_retries, call_timeout), or a script reload (each script once).
  while (true) {
    if (absl::Now() > deadline) {
      return Unavailable(slot,
                         absl::StrCat("call timeout (", absl::FormatDuration(options_.call_timeout),
                                      ") reached; last problem: ", problem));
    }
    NodeAddress node;
    if (target.has_value()) {
      node = *target;
    } else if (const NodeAddress* primary = map_.PrimaryOf(slot); primary != nullptr) {
      node = *primary;
    } else {
      problem = "no node serves the slot";
      (void)RefreshMap();
      if (!Backoff(&retries, deadline)) return Unavailable(slot, problem);
      continue;
    }

    absl::StatusOr<RedisConnection*> connection = ConnectionTo(node);
    bool sent = false;
    absl::Status transport = connection.status();
    std::vector<size_t> again;  // commands to send in the next round
    std::optional<Redirect> redirect;
    std::string redirect_text;
    bool transient = false;
    std::vector<std::string> to_load;
    if (transport.ok()) {
      RedisConnection& redis = **connection;
      for (size_t i : pending) {
        if (asking) redis.Append({"ASKING"});
        redis.Append(commands[i]);
      }
      if (redis.broken()) {
        transport = absl::UnavailableError("redis: could not queue the commands");
      } else {
        sent = true;
      }
      // Replies are read one by one rather than with GetReplies so that, should the connection
      // fail halfway, the commands already answered keep their answer and are not sent again.
      // Either every reply is read or the connection is broken (and dropped below).
      for (size_t k = 0; k < pending.size() && transport.ok(); ++k) {
        const size_t i = pending[k];
        if (asking) {
          // ASKING answers +OK; had it failed, the command's own reply says so (a redirection).
          absl::StatusOr<RedisReplyPtr> ok = redis.GetReply();
          if (!ok.ok()) {
            transport = ok.status();
            again.insert(again.end(), pending.begin() + static_cast<std::ptrdiff_t>(k),
                         pending.end());
            break;
          }
        }
        absl::StatusOr<RedisReplyPtr> reply = redis.GetReply();
        if (!reply.ok()) {
          transport = reply.status();
          again.insert(again.end(), pending.begin() + static_cast<std::ptrdiff_t>(k),
                       pending.end());
          break;
        }
        const std::string_view text = ReplyString(**reply);
        if ((*reply)->type != REDIS_REPLY_ERROR) {
          replies[i] = *std::move(reply);
        } else if (IsRedirect(text)) {
          absl::StatusOr<Redirect> parsed = ParseRedirect(text, node.host);
          if (!parsed.ok()) {
            // Read the rest first so the connection stays in step, then give up: a node that
            // sends nonsense is not followed anywhere.
            (void)redis.DiscardPendingReplies();
            (void)RefreshMap();
            return Unavailable(
                slot, absl::StrCat(node.ToString(), " answered a ", parsed.status().message()));
          }
          if (!redirect.has_value()) {
            redirect = *std::move(parsed);
            redirect_text.assign(text);
          }
          again.push_back(i);
        } else if (IsTransient(text)) {
          transient = true;
          problem = absl::StrCat(node.ToString(), " answered ", Absl(text));
          again.push_back(i);
        } else if (IsNoScript(**reply) && IsEvalSha(commands[i]) &&
                   scripts_.contains(commands[i][1]) && !reloaded.contains(commands[i][1])) {
          to_load.emplace_back(commands[i][1]);
          again.push_back(i);
        } else {
          replies[i] = *std::move(reply);  // an error reply of the command itself
        }
      }
    }

    if (!transport.ok()) {
      ++stats_.transport_errors;
      problem = absl::StrCat(node.ToString(), ": ", transport.message());
      DropConnection(node);
      (void)RefreshMap();
      if (!sent) again = pending;  // nothing went out: safe to send
      if (sent && !options_.resend_after_transport_error) {
        return Unavailable(slot, absl::StrCat(problem, " (the commands may have run; not resent)"));
      }
      pending = std::move(again);
      target.reset();
      asking = false;
      if (!Backoff(&retries, deadline)) return Unavailable(slot, problem);
      continue;
    }
    if (again.empty()) return absl::OkStatus();
    pending = std::move(again);
    const bool was_asking = asking;
    target.reset();
    asking = false;

    if (redirect.has_value()) {
      if (++redirects > options_.max_redirects) {
        return Unavailable(slot, absl::StrCat("more than ", options_.max_redirects,
                                              " redirections; the last: ", redirect_text, " from ",
                                              node.ToString()));
      }
      if (redirect->kind == RedirectKind::kMoved) {
        ++stats_.moved;
        map_.SetPrimary(redirect->slot, redirect->node);
      } else {
        ++stats_.ask;
        asking = true;  // this round only: the map stays as it is
      }
      target = redirect->node;
      continue;
    }
    if (!to_load.empty()) {
      RedisConnection& redis = **connection;
      for (const std::string& sha : to_load) {
        if (!reloaded.insert(sha).second) continue;
        absl::StatusOr<RedisReplyPtr> loaded = redis.Command({"SCRIPT", "LOAD", scripts_[sha]});
        if (!loaded.ok()) break;  // the next round sees the broken connection
        ++stats_.script_loads;
      }
      // The same node again (after ASKING again if it was an ASK target); a second NOSCRIPT
      // for the same script is returned to the caller.
      target = node;
      asking = was_asking;
      continue;
    }
    if (transient) {
      ++stats_.tryagain;
      if (!Backoff(&retries, deadline)) return Unavailable(slot, problem);
      continue;
    }
    // Every command sent again was answered by one of the cases above; should that ever not
    // hold, end the call rather than loop.
    return absl::InternalError("redis cluster: command to resend without a reason");
  }
}

absl::Status ClusterClient::ForEachPrimary(
    absl::FunctionRef<absl::Status(const NodeAddress& node, RedisConnection& connection)> fn) {
  MaybeRefresh();
  for (const NodeAddress& node : map_.Primaries()) {
    absl::StatusOr<RedisConnection*> connection = ConnectionTo(node);
    if (!connection.ok()) {
      ++stats_.transport_errors;
      (void)RefreshMap();
      return Unavailable(-1, absl::StrCat(node.ToString(), ": ", connection.status().message()));
    }
    absl::Status status = fn(node, **connection);
    if ((*connection)->broken()) {
      ++stats_.transport_errors;
      DropConnection(node);
      (void)RefreshMap();
      if (status.ok()) status = Unavailable(-1, absl::StrCat(node.ToString(), ": connection lost"));
    } else if ((*connection)->pending_replies() != 0) {
      DropConnection(node);
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

void ClusterClient::RegisterScript(std::string sha, std::string source) {
  scripts_[std::move(sha)] = std::move(source);
}

absl::StatusOr<std::string> ClusterClient::LoadScript(std::string source) {
  std::string sha;
  absl::Status status = ForEachPrimary([&](const NodeAddress& node, RedisConnection& redis) {
    absl::StatusOr<RedisReplyPtr> reply = redis.Command({"SCRIPT", "LOAD", source});
    if (!reply.ok()) return reply.status();
    if ((*reply)->type != REDIS_REPLY_STRING) {
      return absl::InternalError(absl::StrCat("redis cluster: SCRIPT LOAD on ", node.ToString(),
                                              ": ", Absl(ReplyString(**reply))));
    }
    if (!sha.empty() && sha != ReplyString(**reply)) {
      return absl::InternalError("redis cluster: SCRIPT LOAD gave different SHA1s on two nodes");
    }
    sha.assign(ReplyString(**reply));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  RegisterScript(sha, std::move(source));
  return sha;
}

}  // namespace alliance
