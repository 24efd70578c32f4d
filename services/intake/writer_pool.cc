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
      if (connection_ == nullptr) {
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
    if (connection_ == nullptr) return;
    connection_.reset();
    Batch orphans = pool_->WriterDisconnected();
    FailJobs(orphans, absl::UnavailableError("redis is unreachable; retry later"));
  }

 private:
  absl::Status Connect() {
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

  void Ping() {
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

  // Pipelines one EVALSHA per partition present in `jobs` (the script handles all of that
  // partition's jobs in one atomic call) and completes each job from its reply. Returns the
  // jobs that got NOSCRIPT. On a transport error every job without a reply fails UNAVAILABLE
  // (the write may or may not have happened; the idempotency id makes the caller's retry safe).
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
    for (const auto& group : groups) {
      command_.clear();
      RespCommand command(&command_);
      command.Begin(5 + 6 * group.size());
      command.Arg("EVALSHA");
      command.Arg(script_sha_);
      char key_count[24];
      char* key_count_end =
          std::to_chars(key_count, key_count + sizeof key_count, 2 * group.size()).ptr;
      command.Arg(std::string_view(key_count, static_cast<size_t>(key_count_end - key_count)));
      for (size_t i : group) {
        command.Arg(jobs[i]->idempotency_key);
        command.Arg(jobs[i]->stream_key);
      }
      command.Arg(window_ms_);
      command.Arg(kEntryVersion);
      for (size_t i : group) {
        command.Arg(jobs[i]->content_hash);
        command.Arg(jobs[i]->accepted_id);
        command.Arg(jobs[i]->tenant_id);
        command.Arg(jobs[i]->entry);
      }
      connection_->AppendFormatted(command_);
    }
    // Keep the buffer for the next flush, but not a huge one left by a batch of large messages.
    if (command_.capacity() > (size_t{1} << 20)) std::string().swap(command_);
    Batch noscript;
    for (size_t g = 0; g < groups.size(); ++g) {
      const std::vector<size_t>& group = groups[g];
      auto reply = connection_->GetReply();
      if (!reply.ok()) {
        pool_->metrics_->redis_transport_errors->Increment();
        Batch rest;
        for (size_t h = g; h < groups.size(); ++h) {
          for (size_t i : groups[h]) rest.push_back(std::move(jobs[i]));
        }
        LogWarning("redis_connection_lost", {{"writer", int64_t{index_}},
                                             {"unanswered", static_cast<int64_t>(rest.size())}});
        FailJobs(rest, absl::UnavailableError("lost the redis connection during the write"));
        DropConnection();
        break;
      }
      const redisReply& r = **reply;
      if (r.type == REDIS_REPLY_ERROR) {
        std::string_view message = ReplyString(r);
        if (absl::StartsWith(Absl(message), "NOSCRIPT")) {
          pool_->metrics_->redis_noscript->Increment();
          for (size_t i : group) noscript.push_back(std::move(jobs[i]));
          continue;
        }
        pool_->metrics_->redis_reply_errors->Increment();
        LogWarning("redis_error_reply",
                   {{"writer", int64_t{index_}}, {"error", message.substr(0, 120)}});
        for (size_t i : group) Complete(jobs[i], {StatusOfErrorReply(message), "", false});
        continue;
      }
      auto parsed = ParseAppendReplies(r, group.size());
      if (!parsed.ok()) {
        pool_->metrics_->redis_reply_errors->Increment();
        for (size_t i : group) Complete(jobs[i], {parsed.status(), "", false});
        continue;
      }
      for (size_t k = 0; k < group.size(); ++k) {
        CompleteFromReply(jobs[group[k]], std::move((*parsed)[k]));
      }
    }
    jobs.clear();
    return noscript;
  }

  void CompleteFromReply(std::unique_ptr<WriteJob>& job, AppendReply reply) {
    switch (reply.outcome) {
      case AppendOutcome::kAppended:
        pool_->metrics_->appended->Increment();
        Complete(job, {absl::OkStatus(), std::move(reply.stream_id), false});
        break;
      case AppendOutcome::kDuplicate:
        pool_->metrics_->duplicates->Increment();
        Complete(job, {absl::OkStatus(), std::move(reply.stream_id), true});
        break;
      case AppendOutcome::kConflict:
        pool_->metrics_->conflicts->Increment();
        Complete(job, {absl::AlreadyExistsError(
                           "idempotency_id: already used for a submission with different content"),
                       "", false});
        break;
    }
  }

  WriterPool* const pool_;
  const int index_;
  const std::string window_ms_;
  std::unique_ptr<RedisConnection> connection_;
  std::string script_sha_;
  std::string command_;  // RESP of the command being built, reused across flushes
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
