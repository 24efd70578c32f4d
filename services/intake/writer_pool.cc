// Writer threads: bounded queue, pipelined EVALSHA, reconnect with backoff; see writer_pool.h.
#include "services/intake/writer_pool.h"

#include <algorithm>
#include <charconv>
#include <span>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/strings.h"
#include "services/intake/append_script.h"
#include "store/cluster_client.h"
#include "store/cluster_slot.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/partition_guard.h"
#include "store/resp_command.h"

namespace alliance::intake {
namespace {

// Maps a Redis error reply to the status the caller sees. Replies that say "not now" are
// retryable (UNAVAILABLE); the script did not write anything in any of these cases.
absl::Status StatusOfErrorReply(std::string_view message) {
  for (std::string_view transient :
       {"LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS"}) {
    if (absl::StartsWith(Absl(message), Absl(transient))) {
      return absl::UnavailableError(absl::StrCat("redis is not ready: ", Absl(transient)));
    }
  }
  if (absl::StartsWith(Absl(message), "OOM")) {
    return absl::ResourceExhaustedError("redis is out of memory");
  }
  return absl::InternalError("redis refused the write");
}

void Complete(std::unique_ptr<WriteJob>& job, WriteResult result) {
  auto done = std::move(job->done);
  job.reset();
  done(std::move(result));
}

}  // namespace

void FailJobs(std::vector<std::unique_ptr<WriteJob>>& jobs, const absl::Status& status) {
  for (auto& job : jobs) {
    if (job) Complete(job, WriteResult{status, "", false});
  }
  jobs.clear();
}

// One writer thread and its connection.
class WriterPool::Writer {
 public:
  Writer(WriterPool* pool, int index)
      : pool_(pool),
        index_(index),
        window_ms_(absl::StrCat(absl::ToInt64Milliseconds(pool->options_.idempotency_window))) {}

  void Run() {
    absl::Duration backoff = pool_->options_.backoff_initial;
    while (true) {
      if (!connected()) {
        if (absl::Status s = Connect(); !s.ok()) {
          pool_->metrics_->redis_connect_errors->Increment();
          Batch orphans = pool_->TakeAllIfUnservable();
          FailJobs(orphans, absl::UnavailableError("redis is unreachable; retry later"));
          if (pool_->stopping()) return;
          if (!logged_down_) {
            LogWarning("redis_connect_failed",
                       {{"writer", int64_t{index_}}, {"error", Std(s.message())}});
            logged_down_ = true;
          }
          absl::BitGen bitgen;
          pool_->Backoff(backoff * absl::Uniform(bitgen, 0.5, 1.0));
          backoff = std::min(backoff * 2, pool_->options_.backoff_max);
          continue;
        }
        backoff = pool_->options_.backoff_initial;
        logged_down_ = false;
        LogInfo("redis_connected", {{"writer", int64_t{index_}}});
        pool_->WriterConnected();
      }
      Batch batch;
      if (!pool_->NextBatch(&batch)) return;
      if (batch.empty()) {
        Ping();
      } else {
        Process(batch);
      }
    }
  }

  void DropConnection() {
    if (!connected()) return;
    connection_.reset();
    cluster_.reset();
    Batch orphans = pool_->WriterDisconnected();
    FailJobs(orphans, absl::UnavailableError("redis is unreachable; retry later"));
  }

 private:
  bool connected() const { return connection_ != nullptr || cluster_ != nullptr; }

  absl::Status Connect() {
    if (pool_->options_.cluster) return ConnectCluster();
    auto connection = RedisConnection::Connect(pool_->options_.endpoint);
    if (!connection.ok()) return connection.status();
    if (absl::Status s = CheckPartitionCount(**connection, pool_->options_.layout); !s.ok()) {
      return s;
    }
    auto reply = (*connection)->Command({"SCRIPT", "LOAD", ScriptSource(Script::kAppendFeedback)});
    if (!reply.ok()) return reply.status();
    if ((*reply)->type != REDIS_REPLY_STRING) {
      return absl::UnavailableError(
          absl::StrCat("SCRIPT LOAD refused: ", Absl(ReplyString(**reply))));
    }
    script_sha_ = std::string(ReplyString(**reply));
    connection_ = *std::move(connection);
    return absl::OkStatus();
  }

  // Cluster mode: the slot map read from a seed, the partition count checked and the script
  // loaded on every primary (a primary that loses it later answers NOSCRIPT, which the client
  // handles by loading it again).
  absl::Status ConnectCluster() {
    auto cluster = ClusterClient::Connect(*pool_->options_.cluster);
    if (!cluster.ok()) return cluster.status();
    if (absl::Status s = CheckPartitionCount(**cluster, pool_->options_.layout); !s.ok()) return s;
    auto sha = (*cluster)->LoadScript(std::string(ScriptSource(Script::kAppendFeedback)));
    if (!sha.ok()) return sha.status();
    script_sha_ = *std::move(sha);
    cluster_ = *std::move(cluster);
    return absl::OkStatus();
  }

  void Ping() {
    if (cluster_ != nullptr) {
      // Any primary will do: this checks the client can still reach the cluster.
      if (!cluster_->Command(0, {"PING"}).ok()) {
        pool_->metrics_->redis_transport_errors->Increment();
        LogWarning("redis_connection_lost", {{"writer", int64_t{index_}}});
        DropConnection();
      }
      return;
    }
    auto reply = connection_->Command({"PING"});
    if (!reply.ok()) {
      pool_->metrics_->redis_transport_errors->Increment();
      LogWarning("redis_connection_lost", {{"writer", int64_t{index_}}});
      DropConnection();
    }
  }

  void Process(Batch& batch) {
    auto now = std::chrono::system_clock::now();
    bool past_drain = absl::Now() > pool_->drain_deadline();
    Batch send;
    send.reserve(batch.size());
    for (auto& job : batch) {
      if (past_drain) {
        Complete(job, {absl::UnavailableError("intake is shutting down; retry"), "", false});
      } else if (job->deadline <= now) {
        pool_->metrics_->expired->Increment();
        Complete(
            job,
            {absl::DeadlineExceededError("deadline expired before the write; nothing was written"),
             "", false});
      } else if (job->context != nullptr && job->context->IsCancelled()) {
        pool_->metrics_->cancelled->Increment();
        Complete(job, {absl::CancelledError("call cancelled before the write"), "", false});
      } else {
        send.push_back(std::move(job));
      }
    }
    if (send.empty()) return;
    pool_->metrics_->writes_in_flight->Add(static_cast<double>(send.size()));
    Batch retry = SendRound(send);
    if (!retry.empty() && connection_ != nullptr) {
      // NOSCRIPT: the server lost its script cache (restart, failover, SCRIPT FLUSH). Nothing
      // ran for these jobs, so loading the script again and resending is safe.
      auto reply = connection_->Command({"SCRIPT", "LOAD", ScriptSource(Script::kAppendFeedback)});
      if (reply.ok() && (*reply)->type == REDIS_REPLY_STRING) {
        script_sha_ = std::string(ReplyString(**reply));
        Batch again = SendRound(retry);
        FailJobs(again, absl::InternalError("redis keeps forgetting the append script"));
      } else {
        if (!reply.ok()) {
          pool_->metrics_->redis_transport_errors->Increment();
          DropConnection();
        }
        FailJobs(retry, absl::UnavailableError("redis could not load the append script"));
      }
    }
    FailJobs(retry, absl::UnavailableError("redis is unreachable; retry later"));
    pool_->metrics_->writes_in_flight->Add(-static_cast<double>(send.size()));
  }

  // Sends one EVALSHA per partition present in `jobs` (the script handles all of that
  // partition's jobs in one atomic call), followed by WAIT when submissions must reach replicas
  // before they are acknowledged, and completes each job from its reply. Returns the jobs that
  // got NOSCRIPT. On a transport error every job without a reply fails UNAVAILABLE (the write
  // may or may not have happened; the idempotency id makes the caller's retry safe).
  Batch SendRound(Batch& jobs) {
    std::vector<std::vector<size_t>> groups;
    {
      absl::flat_hash_map<std::string_view, size_t> group_of_stream;
      for (size_t i = 0; i < jobs.size(); ++i) {
        auto [it, inserted] = group_of_stream.try_emplace(jobs[i]->stream_key, groups.size());
        if (inserted) groups.emplace_back();
        groups[it->second].push_back(i);
      }
    }
    std::vector<std::optional<WriteResult>> results(jobs.size());
    Batch noscript;
    if (cluster_ != nullptr) {
      SendRoundToCluster(jobs, groups, results);
    } else {
      SendRoundToRedis(jobs, groups, results, noscript);
    }
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (jobs[i] != nullptr && results[i].has_value()) Complete(jobs[i], *std::move(results[i]));
    }
    jobs.clear();
    return noscript;
  }

  // The append script's arguments for one partition's jobs (views into the jobs).
  std::vector<std::string_view> ScriptArgs(const Batch& jobs, const std::vector<size_t>& group,
                                           std::string& key_count) const {
    key_count = std::to_string(2 * group.size());
    std::vector<std::string_view> args;
    args.reserve(5 + 6 * group.size());
    args.insert(args.end(), {"EVALSHA", script_sha_, key_count});
    for (size_t i : group) args.insert(args.end(), {jobs[i]->idempotency_key, jobs[i]->stream_key});
    args.insert(args.end(), {window_ms_, kEntryVersion});
    for (size_t i : group) {
      args.insert(args.end(), {jobs[i]->content_hash, jobs[i]->accepted_id, jobs[i]->tenant_id,
                               jobs[i]->entry});
    }
    return args;
  }

  std::vector<std::string_view> WaitArgs() {
    wait_replicas_ = std::to_string(pool_->options_.wait_replicas);
    wait_ms_ = std::to_string(absl::ToInt64Milliseconds(pool_->options_.wait_timeout));
    return {"WAIT", wait_replicas_, wait_ms_};
  }

  void SendRoundToRedis(Batch& jobs, const std::vector<std::vector<size_t>>& groups,
                        std::vector<std::optional<WriteResult>>& results, Batch& noscript) {
    std::string key_count;
    for (const auto& group : groups) {
      std::vector<std::string_view> args = ScriptArgs(jobs, group, key_count);
      command_.clear();
      RespCommand command(&command_);
      command.Begin(args.size());
      for (std::string_view arg : args) command.Arg(arg);
      connection_->AppendFormatted(command_);
    }
    const bool wait = pool_->options_.wait_replicas > 0;
    if (wait) connection_->Append(WaitArgs());
    // Keep the buffer for the next flush, but not a huge one left by a batch of large messages.
    if (command_.capacity() > (size_t{1} << 20)) std::string().swap(command_);
    for (size_t g = 0; g < groups.size(); ++g) {
      auto reply = connection_->GetReply();
      if (!reply.ok()) {
        pool_->metrics_->redis_transport_errors->Increment();
        int64_t unanswered = 0;
        for (size_t h = g; h < groups.size(); ++h) unanswered += std::ssize(groups[h]);
        LogWarning("redis_connection_lost",
                   {{"writer", int64_t{index_}}, {"unanswered", unanswered}});
        const absl::Status lost =
            absl::UnavailableError("lost the redis connection during the write");
        for (size_t i = 0; i < jobs.size(); ++i) {
          if (jobs[i] != nullptr && !results[i].has_value())
            results[i] = WriteResult{lost, "", false};
        }
        if (wait) Unconfirmed(results, "lost the redis connection before replicas confirmed");
        DropConnection();
        return;
      }
      const redisReply& r = **reply;
      if (r.type == REDIS_REPLY_ERROR && absl::StartsWith(Absl(ReplyString(r)), "NOSCRIPT")) {
        pool_->metrics_->redis_noscript->Increment();
        for (size_t i : groups[g]) noscript.push_back(std::move(jobs[i]));
        continue;
      }
      GroupResults(jobs, groups[g], r, results);
    }
    if (wait) {
      auto reply = connection_->GetReply();
      if (!reply.ok()) {
        pool_->metrics_->redis_transport_errors->Increment();
        Unconfirmed(results, "lost the redis connection before replicas confirmed");
        DropConnection();
        return;
      }
      CheckWaitReply(**reply, results);
    }
  }

  // Cluster mode: one exchange per partition (its script call and WAIT go to the primary of its
  // slot; the client follows redirections and reloads a lost script).
  void SendRoundToCluster(Batch& jobs, const std::vector<std::vector<size_t>>& groups,
                          std::vector<std::optional<WriteResult>>& results) {
    const bool wait = pool_->options_.wait_replicas > 0;
    std::string key_count;
    for (const auto& group : groups) {
      std::vector<CommandArgs> commands = {ScriptArgs(jobs, group, key_count)};
      if (wait) commands.push_back(WaitArgs());
      auto replies = cluster_->Exchange(KeySlot(jobs[group[0]]->stream_key), commands);
      if (!replies.ok()) {
        pool_->metrics_->redis_transport_errors->Increment();
        LogWarning("redis_cluster_unavailable",
                   {{"writer", int64_t{index_}}, {"error", Std(replies.status().message())}});
        for (size_t i : group) {
          results[i] =
              WriteResult{absl::UnavailableError("redis cluster is unavailable; retry"), "", false};
        }
        continue;
      }
      GroupResults(jobs, group, *(*replies)[0], results);
      if (wait) {
        std::vector<std::optional<WriteResult>> mine(results.size());
        for (size_t i : group) mine[i] = std::move(results[i]);
        CheckWaitReply(*(*replies)[1], mine);
        for (size_t i : group) results[i] = std::move(mine[i]);
      }
    }
  }

  // Results of one partition's script reply.
  void GroupResults(const Batch& jobs, const std::vector<size_t>& group, const redisReply& r,
                    std::vector<std::optional<WriteResult>>& results) {
    if (r.type == REDIS_REPLY_ERROR) {
      std::string_view message = ReplyString(r);
      pool_->metrics_->redis_reply_errors->Increment();
      LogWarning("redis_error_reply",
                 {{"writer", int64_t{index_}}, {"error", message.substr(0, 120)}});
      for (size_t i : group) results[i] = WriteResult{StatusOfErrorReply(message), "", false};
      return;
    }
    auto parsed = ParseAppendReplies(r, group.size());
    if (!parsed.ok()) {
      pool_->metrics_->redis_reply_errors->Increment();
      for (size_t i : group) results[i] = WriteResult{parsed.status(), "", false};
      return;
    }
    for (size_t k = 0; k < group.size(); ++k) {
      (void)jobs;
      results[group[k]] = ResultOf(std::move((*parsed)[k]));
    }
  }

  // WAIT answers how many replicas have everything this connection wrote; fewer than asked
  // means the round's submissions could still vanish with their primary.
  void CheckWaitReply(const redisReply& reply, std::vector<std::optional<WriteResult>>& results) {
    if (reply.type == REDIS_REPLY_INTEGER && reply.integer >= pool_->options_.wait_replicas) return;
    pool_->metrics_->replication_unconfirmed->Increment();
    Unconfirmed(results, reply.type == REDIS_REPLY_INTEGER
                             ? absl::StrCat("reached ", reply.integer, " of ",
                                            pool_->options_.wait_replicas, " replicas in time")
                             : std::string("WAIT failed"));
  }

  // Submissions written but not confirmed on enough replicas are not acknowledged: UNAVAILABLE,
  // so the client retries with its idempotency id (answered from the record, not written twice).
  static void Unconfirmed(std::vector<std::optional<WriteResult>>& results, std::string_view why) {
    for (std::optional<WriteResult>& result : results) {
      if (result.has_value() && result->status.ok()) {
        *result = WriteResult{absl::UnavailableError(
                                  absl::StrCat("written but not yet confirmed by replicas (",
                                               Absl(why), "); retry with the same idempotency_id")),
                              "", false};
      }
    }
  }

  WriteResult ResultOf(AppendReply reply) {
    switch (reply.outcome) {
      case AppendOutcome::kAppended:
        pool_->metrics_->appended->Increment();
        return {absl::OkStatus(), std::move(reply.stream_id), false};
      case AppendOutcome::kDuplicate:
        pool_->metrics_->duplicates->Increment();
        return {absl::OkStatus(), std::move(reply.stream_id), true};
      case AppendOutcome::kConflict:
        pool_->metrics_->conflicts->Increment();
        break;
    }
    return {absl::AlreadyExistsError(
                "idempotency_id: already used for a submission with different content"),
            "", false};
  }

  WriterPool* const pool_;
  const int index_;
  const std::string window_ms_;
  std::unique_ptr<RedisConnection> connection_;  // single Redis
  std::unique_ptr<ClusterClient> cluster_;       // Redis Cluster (--redis_cluster_nodes)
  std::string script_sha_;
  std::string wait_replicas_, wait_ms_;  // WAIT's arguments, kept alive while it is queued
  std::string command_;                  // RESP of the command being built, reused across flushes
  bool logged_down_ = false;
};

WriterPool::WriterPool(WriterPoolOptions options, IntakeMetrics* metrics,
                       std::function<void(bool)> on_redis_state)
    : options_(std::move(options)), metrics_(metrics), on_redis_state_(std::move(on_redis_state)) {}

WriterPool::~WriterPool() {
  if (!threads_.empty() && !joined_) Shutdown(absl::Now());
}

void WriterPool::Start() {
  for (int i = 0; i < options_.threads; ++i) {
    writers_.push_back(std::make_unique<Writer>(this, i));
  }
  for (auto& writer : writers_) {
    threads_.emplace_back([w = writer.get()] {
      w->Run();
      w->DropConnection();
    });
  }
}

absl::Status WriterPool::Submit(std::unique_ptr<WriteJob>& job) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("intake is shutting down; retry");
    if (connected_ == 0) return absl::UnavailableError("redis is unreachable; retry later");
    if (queue_.size() >= options_.queue_capacity) {
      metrics_->rejected_full->Increment();
      return absl::ResourceExhaustedError("writer queue is full; retry with backoff");
    }
    queue_.push_back(std::move(job));
    metrics_->queue_depth->Set(static_cast<double>(queue_.size()));
  }
  work_.Signal();
  return absl::OkStatus();
}

bool WriterPool::NextBatch(Batch* batch) {
  absl::MutexLock lock(&mu_);
  absl::Time wake = absl::Now() + options_.idle_ping;
  while (queue_.empty() && !stopping_) {
    if (work_.WaitWithDeadline(&mu_, wake)) break;
  }
  if (queue_.empty()) return !stopping_;
  size_t n = std::min(queue_.size(), options_.max_pipeline);
  batch->reserve(n);
  for (size_t i = 0; i < n; ++i) {
    batch->push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  metrics_->queue_depth->Set(static_cast<double>(queue_.size()));
  // More work left: let another writer take the next batch while this one waits on Redis.
  if (!queue_.empty()) work_.Signal();
  return true;
}

void WriterPool::WriterConnected() {
  absl::MutexLock lock(&mu_);
  ++connected_;
  metrics_->writers_connected->Set(connected_);
  if (connected_ == 1 && on_redis_state_) on_redis_state_(true);
}

WriterPool::Batch WriterPool::WriterDisconnected() {
  Batch orphans;
  absl::MutexLock lock(&mu_);
  --connected_;
  metrics_->writers_connected->Set(connected_);
  if (connected_ == 0) {
    LogWarning("redis_unreachable", {{"failed_queued", static_cast<int64_t>(queue_.size())}});
    for (auto& job : queue_) orphans.push_back(std::move(job));
    queue_.clear();
    metrics_->queue_depth->Set(0);
    if (on_redis_state_) on_redis_state_(false);
  }
  return orphans;
}

WriterPool::Batch WriterPool::TakeAllIfUnservable() {
  Batch orphans;
  absl::MutexLock lock(&mu_);
  if (connected_ == 0 || absl::Now() > drain_deadline_) {
    for (auto& job : queue_) orphans.push_back(std::move(job));
    queue_.clear();
    metrics_->queue_depth->Set(0);
  }
  return orphans;
}

bool WriterPool::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

absl::Time WriterPool::drain_deadline() const {
  absl::MutexLock lock(&mu_);
  return drain_deadline_;
}

void WriterPool::Backoff(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  absl::Time until = absl::Now() + delay;
  while (!stopping_) {
    if (backoff_.WaitWithDeadline(&mu_, until)) break;
  }
}

void WriterPool::Shutdown(absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    drain_deadline_ = deadline;
  }
  work_.SignalAll();
  backoff_.SignalAll();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  joined_ = true;
  Batch leftovers;
  {
    absl::MutexLock lock(&mu_);
    for (auto& job : queue_) leftovers.push_back(std::move(job));
    queue_.clear();
  }
  FailJobs(leftovers, absl::UnavailableError("intake is shutting down; retry"));
}

size_t WriterPool::queue_depth() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

bool WriterPool::redis_up() const {
  absl::MutexLock lock(&mu_);
  return connected_ > 0;
}

}  // namespace alliance::intake
