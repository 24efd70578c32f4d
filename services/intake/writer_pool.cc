// Writer threads: bounded queue, pipelined appends (store/feedback_append.h), reconnect with
// the shared backoff (store/backoff.h); see writer_pool.h.
#include "services/intake/writer_pool.h"

#include <algorithm>
#include <span>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/strings.h"
#include "store/backoff.h"
#include "store/cluster_client.h"
#include "store/feedback_append.h"
#include "store/partition_guard.h"
#include "store/redis_executor.h"

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
        appender_(pool->options_.idempotency_window, pool->options_.wait_replicas,
                  pool->options_.wait_timeout),
        backoff_(BackoffPolicy{pool->options_.backoff_initial, pool->options_.backoff_max}) {}

  void Run() {
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
          // Cut short by Shutdown; the next attempt then sees the pool stopping.
          backoff_.Wait([this] { return pool_->stopping(); });
          continue;
        }
        backoff_.Reset();
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
    executor_.reset();
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
    if (absl::Status s = appender_.LoadScript(**connection); !s.ok()) return s;
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
    if (absl::Status s = appender_.LoadScript(**cluster); !s.ok()) return s;
    cluster_ = *std::move(cluster);
    executor_ = std::make_unique<ClusterExecutor>(*cluster_);
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
    if (!connection_->Command({"PING"}).ok()) {
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
      if (appender_.LoadScript(*connection_).ok()) {
        Batch again = SendRound(retry);
        FailJobs(again, absl::InternalError("redis keeps forgetting the append script"));
      } else {
        if (connection_->broken()) {
          pool_->metrics_->redis_transport_errors->Increment();
          DropConnection();
        }
        FailJobs(retry, absl::UnavailableError("redis could not load the append script"));
      }
    }
    FailJobs(retry, absl::UnavailableError("redis is unreachable; retry later"));
    pool_->metrics_->writes_in_flight->Add(-static_cast<double>(send.size()));
  }

  // Orders `jobs` by partition (stream key) into order_, with group g being
  // order_[group_begin_[g], group_begin_[g + 1]), and the matching submission spans in groups_.
  void GroupByPartition(const Batch& jobs) {
    group_of_job_.resize(jobs.size());
    group_begin_.clear();
    {
      absl::flat_hash_map<std::string_view, size_t> group_of_stream;
      for (size_t i = 0; i < jobs.size(); ++i) {
        auto [it, inserted] = group_of_stream.try_emplace(jobs[i]->stream_key, group_begin_.size());
        if (inserted) group_begin_.push_back(0);
        group_of_job_[i] = it->second;
        ++group_begin_[it->second];
      }
    }
    // Counts to starting offsets (a counting sort keeps each partition's jobs in queue order).
    size_t offset = 0;
    for (size_t& begin : group_begin_) offset += std::exchange(begin, offset);
    group_begin_.push_back(offset);
    order_.resize(jobs.size());
    submissions_.resize(jobs.size());
    next_.assign(group_begin_.begin(), group_begin_.end() - 1);
    for (size_t i = 0; i < jobs.size(); ++i) {
      const size_t at = next_[group_of_job_[i]]++;
      order_[at] = i;
      submissions_[at] = jobs[i].get();
    }
    groups_.clear();
    for (size_t g = 0; g + 1 < group_begin_.size(); ++g) {
      groups_.emplace_back(submissions_.data() + group_begin_[g],
                           group_begin_[g + 1] - group_begin_[g]);
    }
  }

  // The job indexes of group g.
  std::span<const size_t> Group(size_t g) const {
    return {order_.data() + group_begin_[g], group_begin_[g + 1] - group_begin_[g]};
  }

  // Sends one EVALSHA per partition present in `jobs` (the script handles all of that
  // partition's jobs in one atomic call), followed by WAIT when submissions must reach replicas
  // before they are acknowledged, and completes each job from its reply. Returns the jobs that
  // got NOSCRIPT. On a transport error every job without a reply fails UNAVAILABLE (the write
  // may or may not have happened; the idempotency id makes the caller's retry safe).
  Batch SendRound(Batch& jobs) {
    GroupByPartition(jobs);
    std::vector<std::optional<WriteResult>> results(jobs.size());
    Batch noscript;
    if (cluster_ != nullptr) {
      SendRoundToCluster(results);
    } else {
      SendRoundToRedis(jobs, results, noscript);
    }
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (jobs[i] != nullptr && results[i].has_value()) Complete(jobs[i], *std::move(results[i]));
    }
    jobs.clear();
    return noscript;
  }

  void SendRoundToRedis(Batch& jobs, std::vector<std::optional<WriteResult>>& results,
                        Batch& noscript) {
    AppendRound round = appender_.AppendPipelined(*connection_, groups_);
    for (size_t g = 0; g < round.answered; ++g) {
      if (round.calls[g].kind == AppendCallReply::Kind::kNoScript) {
        pool_->metrics_->redis_noscript->Increment();
        for (size_t i : Group(g)) noscript.push_back(std::move(jobs[i]));
        continue;
      }
      GroupResults(Group(g), round.calls[g], results);
    }
    if (round.transport.ok()) {
      if (round.wait.asked) CheckWaitReply(round.wait, order_, results);
      return;
    }
    pool_->metrics_->redis_transport_errors->Increment();
    if (round.answered < groups_.size()) {
      const int64_t unanswered =
          static_cast<int64_t>(group_begin_.back() - group_begin_[round.answered]);
      LogWarning("redis_connection_lost",
                 {{"writer", int64_t{index_}}, {"unanswered", unanswered}});
      const absl::Status lost =
          absl::UnavailableError("lost the redis connection during the write");
      for (size_t i = 0; i < jobs.size(); ++i) {
        if (jobs[i] != nullptr && !results[i].has_value())
          results[i] = WriteResult{lost, "", false};
      }
    }
    if (round.wait.asked) {
      Unconfirmed(results, order_, "lost the redis connection before replicas confirmed");
    }
    DropConnection();
  }

  // Cluster mode: one exchange per partition (its script call and WAIT go to the primary of its
  // slot; the client follows redirections and reloads a lost script).
  void SendRoundToCluster(std::vector<std::optional<WriteResult>>& results) {
    for (size_t g = 0; g < groups_.size(); ++g) {
      AppendExchange exchange = appender_.AppendOnCluster(*executor_, groups_[g]);
      if (!exchange.status.ok()) {
        pool_->metrics_->redis_transport_errors->Increment();
        LogWarning("redis_cluster_unavailable",
                   {{"writer", int64_t{index_}}, {"error", Std(exchange.status.message())}});
        for (size_t i : Group(g)) {
          results[i] =
              WriteResult{absl::UnavailableError("redis cluster is unavailable; retry"), "", false};
        }
        continue;
      }
      GroupResults(Group(g), exchange.call, results);
      if (exchange.wait.asked) CheckWaitReply(exchange.wait, Group(g), results);
    }
  }

  // Results of one partition's script call.
  void GroupResults(std::span<const size_t> group, AppendCallReply& call,
                    std::vector<std::optional<WriteResult>>& results) {
    switch (call.kind) {
      case AppendCallReply::Kind::kAnswered:
        for (size_t k = 0; k < group.size(); ++k) results[group[k]] = ResultOf(call.results[k]);
        return;
      case AppendCallReply::Kind::kNoScript:  // on a cluster: the client could not reload it
      case AppendCallReply::Kind::kErrorReply: {
        std::string_view message = call.error;
        pool_->metrics_->redis_reply_errors->Increment();
        LogWarning("redis_error_reply",
                   {{"writer", int64_t{index_}}, {"error", message.substr(0, 120)}});
        for (size_t i : group) results[i] = WriteResult{StatusOfErrorReply(message), "", false};
        return;
      }
      case AppendCallReply::Kind::kMalformed:
        pool_->metrics_->redis_reply_errors->Increment();
        for (size_t i : group) results[i] = WriteResult{absl::InternalError(call.error), "", false};
        return;
    }
  }

  // WAIT answers how many replicas have everything this connection wrote; fewer than asked
  // means the submissions of `which` could still vanish with their primary.
  void CheckWaitReply(const ReplicaConfirmation& wait, std::span<const size_t> which,
                      std::vector<std::optional<WriteResult>>& results) {
    const int wanted = pool_->options_.wait_replicas;
    if (wait.confirmed(wanted)) return;
    pool_->metrics_->replication_unconfirmed->Increment();
    Unconfirmed(results, which,
                wait.replicas.has_value()
                    ? absl::StrCat("reached ", *wait.replicas, " of ", wanted, " replicas in time")
                    : std::string("WAIT failed"));
  }

  // Submissions written but not confirmed on enough replicas are not acknowledged: UNAVAILABLE,
  // so the client retries with its idempotency id (answered from the record, not written twice).
  static void Unconfirmed(std::vector<std::optional<WriteResult>>& results,
                          std::span<const size_t> which, std::string_view why) {
    for (size_t i : which) {
      std::optional<WriteResult>& result = results[i];
      if (result.has_value() && result->status.ok()) {
        *result = WriteResult{absl::UnavailableError(
                                  absl::StrCat("written but not yet confirmed by replicas (",
                                               Absl(why), "); retry with the same idempotency_id")),
                              "", false};
      }
    }
  }

  WriteResult ResultOf(AppendResult& reply) {
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
  FeedbackAppender appender_;  // the script's SHA1, WAIT's arguments, the RESP buffer
  Backoff backoff_;            // between connection attempts
  std::unique_ptr<RedisConnection> connection_;  // single Redis
  std::unique_ptr<ClusterClient> cluster_;       // Redis Cluster (--redis_cluster_nodes)
  std::unique_ptr<RedisExecutor> executor_;      // over cluster_
  // The round being sent, grouped by partition (reused from round to round).
  std::vector<size_t> group_of_job_, group_begin_, next_, order_;
  std::vector<const FeedbackSubmission*> submissions_;
  std::vector<std::span<const FeedbackSubmission* const>> groups_;
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

void WriterPool::Shutdown(absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    drain_deadline_ = deadline;
  }
  work_.SignalAll();
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
