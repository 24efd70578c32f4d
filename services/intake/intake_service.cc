// SubmitFeedback and SubmitFeedbackBatch handlers; see intake_service.h.
#include "services/intake/intake_service.h"

#include <atomic>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "analytics/hash.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/strings.h"
#include "services/intake/content_hash.h"
#include "store/feedback_entry.h"

namespace alliance::intake {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void FillAck(const WriteResult& result, int partition, std::string accepted_id,
             alliance::v1::SubmitFeedbackResponse* ack) {
  ack->set_accepted_id(std::move(accepted_id));
  ack->set_partition(partition);
  ack->set_stream_id(result.stream_id);
  ack->set_duplicate(result.duplicate);
}

// Completion state of one batch call: the last item to finish finishes the call.
struct BatchCall {
  grpc::ServerUnaryReactor* reactor;
  alliance::v1::SubmitFeedbackBatchResponse* response;
  IntakeMetrics* metrics;
  Clock::time_point start;
  std::atomic<int> remaining;

  void ItemDone(int index, const absl::Status& status) {
    auto* item = response->mutable_results(index);
    item->set_code(static_cast<int>(status.code()));
    if (!status.ok()) item->set_message(std::string(status.message()));
    metrics->RecordBatchItem(static_cast<grpc::StatusCode>(status.code()));
    Release();
  }

  void Release() {
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      reactor->Finish(grpc::Status::OK);
      metrics->RecordCall(Method::kSubmitFeedbackBatch, grpc::StatusCode::OK, SecondsSince(start));
      delete this;
    }
  }
};

// The submission as it will be stored: a submission without a tenant belongs to the key's
// tenant (`scratch` holds the copy); one naming another tenant is PERMISSION_DENIED.
absl::StatusOr<const alliance::v1::Feedback*> WithCallerTenant(const Authorizer& authorizer,
                                                               const Principal& caller,
                                                               const alliance::v1::Feedback& in,
                                                               alliance::v1::Feedback* scratch) {
  if (!authorizer.enabled()) return &in;
  if (in.tenant_id().empty()) {
    *scratch = in;
    scratch->set_tenant_id(caller.tenant_id);
    return scratch;
  }
  if (in.tenant_id() != caller.tenant_id) {
    return absl::PermissionDeniedError("tenant_id: this API key may not submit for that tenant");
  }
  return &in;
}

// RESOURCE_EXHAUSTED naming the limit, like gRPC's own refusal of a message above its limit.
absl::Status TooLarge(std::string_view what, size_t bytes, size_t limit) {
  return absl::ResourceExhaustedError(
      absl::StrCat(Absl(what), ": ", bytes, " bytes; the largest valid one is ", limit, " bytes"));
}

}  // namespace

IntakeService::IntakeService(IntakeServiceOptions options,
                             const analytics::InstrumentRegistry* registry, KeyLayout layout,
                             WriterPool* pool, IntakeMetrics* metrics, const Authorizer* authorizer)
    : options_(options),
      registry_(registry),
      layout_(std::move(layout)),
      pool_(pool),
      metrics_(metrics),
      authorizer_(authorizer) {}

absl::StatusOr<IntakeService::Prepared> IntakeService::Prepare(
    const alliance::v1::Feedback& feedback, std::chrono::system_clock::time_point deadline,
    grpc::CallbackServerContext* context, absl::Time now) const {
  if (absl::Status s = ValidateFeedback(feedback, *registry_, options_.validation, now); !s.ok()) {
    return s;
  }
  Prepared prepared;
  prepared.partition =
      layout_.PartitionOf(feedback.tenant_id(), feedback.therapist_id(), feedback.client_id());
  auto job = std::make_unique<WriteJob>();
  job->idempotency_key =
      layout_.Idempotency(prepared.partition, feedback.tenant_id(), feedback.idempotency_id());
  job->stream_key = layout_.FeedbackStream(prepared.partition);
  job->content_hash = ContentHash(feedback);
  job->accepted_id = analytics::Hash128Hex({feedback.tenant_id(), feedback.idempotency_id()});
  job->tenant_id = feedback.tenant_id();
  EncodeFeedbackEntry(feedback, job->accepted_id, now, &job->entry);
  job->deadline = deadline;
  job->context = context;
  prepared.job = std::move(job);
  return prepared;
}

void IntakeService::Submit(const Principal& caller, const alliance::v1::Feedback& in,
                           std::chrono::system_clock::time_point deadline,
                           grpc::CallbackServerContext* context, SubmitDone done) const {
  alliance::v1::Feedback scratch;
  absl::StatusOr<const alliance::v1::Feedback*> feedback =
      WithCallerTenant(*authorizer_, caller, in, &scratch);
  if (!feedback.ok()) {
    done(feedback.status());
    return;
  }
  auto prepared = Prepare(**feedback, deadline, context, absl::Now());
  if (!prepared.ok()) {
    done(prepared.status());
    return;
  }
  int partition = prepared->partition;
  std::unique_ptr<WriteJob>& job = prepared->job;
  job->done = [done, partition, accepted_id = job->accepted_id](WriteResult result) mutable {
    if (!result.status.ok()) {
      done(result.status);
      return;
    }
    alliance::v1::SubmitFeedbackResponse ack;
    FillAck(result, partition, std::move(accepted_id), &ack);
    done(std::move(ack));
  };
  // A refused job keeps its callback: the refusal is reported here.
  if (absl::Status s = pool_->Submit(job); !s.ok()) done(s);
}

grpc::ServerUnaryReactor* IntakeService::SubmitFeedback(
    grpc::CallbackServerContext* context, const alliance::v1::SubmitFeedbackRequest* request,
    alliance::v1::SubmitFeedbackResponse* response) {
  Clock::time_point start = Clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  IntakeMetrics* metrics = metrics_;
  auto finish = [reactor, metrics, start](const absl::Status& status) {
    reactor->Finish(ToGrpcStatus(status));
    metrics->RecordCall(Method::kSubmitFeedback, static_cast<grpc::StatusCode>(status.code()),
                        SecondsSince(start));
  };
  // Authorized before anything is validated or queued: an unknown caller learns nothing.
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, Scope::kSubmit, request->feedback().tenant_id());
  if (!caller.ok()) {
    finish(caller.status());
    return reactor;
  }
  // gRPC admits requests up to the batch bound; a single submission has a far smaller one.
  if (const size_t bytes = request->ByteSizeLong(); bytes > options_.max_submit_request_bytes) {
    finish(TooLarge("SubmitFeedbackRequest", bytes, options_.max_submit_request_bytes));
    return reactor;
  }
  if (!request->has_feedback()) {
    finish(absl::InvalidArgumentError("feedback: is required"));
    return reactor;
  }
  Submit(*caller, request->feedback(), context->deadline(), context,
         [finish, response](absl::StatusOr<alliance::v1::SubmitFeedbackResponse> ack) {
           if (!ack.ok()) {
             const bool invalid = ack.status().code() == absl::StatusCode::kInvalidArgument;
             finish(invalid ? PrefixFieldPath(ack.status(), "feedback.") : ack.status());
             return;
           }
           *response = std::move(*ack);
           finish(absl::OkStatus());
         });
  return reactor;
}

grpc::ServerUnaryReactor* IntakeService::SubmitFeedbackBatch(
    grpc::CallbackServerContext* context, const alliance::v1::SubmitFeedbackBatchRequest* request,
    alliance::v1::SubmitFeedbackBatchResponse* response) {
  Clock::time_point start = Clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // The key and its scope decide the whole call; the tenant is checked per submission.
  absl::StatusOr<Principal> caller = authorizer_->Authorize(*context, Scope::kSubmit, "");
  if (!caller.ok()) {
    grpc::Status status = ToGrpcStatus(caller.status());
    reactor->Finish(status);
    metrics_->RecordCall(Method::kSubmitFeedbackBatch, status.error_code(), SecondsSince(start));
    return reactor;
  }
  const int n = request->feedback_size();
  if (n == 0 || n > options_.max_batch_items) {
    grpc::Status status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("feedback: a batch holds 1..", options_.max_batch_items,
                                     " submissions, got ", n));
    reactor->Finish(status);
    metrics_->RecordCall(Method::kSubmitFeedbackBatch, status.error_code(), SecondsSince(start));
    return reactor;
  }
  for (int i = 0; i < n; ++i) response->add_results()->set_index(i);
  // One extra count held by this handler, so the call cannot finish while items are queued.
  auto* call = new BatchCall{reactor, response, metrics_, start, n + 1};
  for (int i = 0; i < n; ++i) {
    if (const size_t bytes = request->feedback(i).ByteSizeLong();
        bytes > options_.max_feedback_bytes) {
      call->ItemDone(
          i, TooLarge(absl::StrCat("feedback[", i, "]"), bytes, options_.max_feedback_bytes));
      continue;
    }
    Submit(*caller, request->feedback(i), context->deadline(), context,
           [call, i](absl::StatusOr<alliance::v1::SubmitFeedbackResponse> ack) {
             if (!ack.ok()) {
               const bool invalid = ack.status().code() == absl::StatusCode::kInvalidArgument;
               call->ItemDone(
                   i, invalid ? PrefixFieldPath(ack.status(), absl::StrCat("feedback[", i, "]."))
                              : ack.status());
               return;
             }
             *call->response->mutable_results(i)->mutable_ack() = std::move(*ack);
             call->ItemDone(i, absl::OkStatus());
           });
  }
  call->Release();
  return reactor;
}

}  // namespace alliance::intake
