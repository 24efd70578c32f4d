// Reply parsing and feedback validation for the worker.
#include "worker/stream_entry.h"

#include "absl/strings/str_cat.h"
#include "alliance/internal/v1/records.pb.h"
#include "analytics/scoring.h"
#include "common/keys.h"
#include "common/strings.h"

namespace alliance::worker {

const std::string* StreamEntry::Field(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) return &v;
  }
  return nullptr;
}

absl::StatusOr<std::vector<StreamEntry>> ParseEntries(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ARRAY) return absl::InternalError("stream reply is not an array");
  std::vector<StreamEntry> entries;
  entries.reserve(reply.elements);
  for (size_t i = 0; i < reply.elements; ++i) {
    const redisReply* e = reply.element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING) {
      return absl::InternalError("malformed stream entry");
    }
    StreamEntry entry;
    entry.id = std::string(ReplyString(*e->element[0]));
    const redisReply* f = e->element[1];
    if (f->type != REDIS_REPLY_ARRAY) {
      entry.deleted = true;  // nil: the id is pending but the entry was deleted
    } else {
      for (size_t j = 0; j + 1 < f->elements; j += 2) {
        entry.fields.emplace_back(ReplyString(*f->element[j]), ReplyString(*f->element[j + 1]));
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

absl::StatusOr<DecodedFeedback> DecodeFeedback(const StreamEntry& entry,
                                               const analytics::InstrumentRegistry& registry) {
  const std::string* v = entry.Field("v");
  if (v == nullptr || *v != kEntryVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported entry version '", v ? *v : "", "'"));
  }
  const std::string* tenant = entry.Field("tenant");
  const std::string* accepted_id = entry.Field("accepted_id");
  const std::string* payload = entry.Field("entry");
  if (tenant == nullptr || accepted_id == nullptr || payload == nullptr) {
    return absl::InvalidArgumentError("missing field tenant, accepted_id or entry");
  }
  // One message per thread, parsed into again and again: parsing reuses the memory of its
  // strings and repeated fields instead of allocating them for every entry.
  thread_local internal::v1::FeedbackEntry fe;
  if (!fe.ParseFromString(*payload)) {
    return absl::InvalidArgumentError("entry is not a FeedbackEntry");
  }
  const alliance::v1::Feedback& f = fe.feedback();
  if (f.tenant_id() != *tenant || fe.accepted_id() != *accepted_id || accepted_id->empty()) {
    return absl::InvalidArgumentError("tenant or accepted_id disagree with the entry");
  }
  if (f.therapist_id().empty() || f.client_id().empty() || f.session_number() < 1) {
    return absl::InvalidArgumentError("missing therapist, client or session number");
  }
  const analytics::Instrument* instrument = registry.Find(f.instrument_id());
  if (instrument == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown instrument '", f.instrument_id(), "'"));
  }
  auto rater = static_cast<analytics::Rater>(f.rater());
  if (!instrument->AllowsRater(rater)) {
    return absl::InvalidArgumentError("rater not allowed for the instrument");
  }
  std::vector<analytics::Answer> answers;
  answers.reserve(f.answers_size());
  for (const alliance::v1::ItemAnswer& a : f.answers()) answers.push_back({a.item(), a.value()});
  if (absl::Status s = analytics::ValidateAnswers(*instrument, answers); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("answers: ", s.message()));
  }
  DecodedFeedback out;
  out.stream_id = entry.id;
  out.dyad = {f.tenant_id(), f.therapist_id(), f.client_id()};
  out.rating.rating_id = fe.accepted_id();
  out.rating.session_number = f.session_number();
  out.rating.session_time_ms =
      f.session_time().seconds() * 1000 + f.session_time().nanos() / 1000000;
  out.rating.rater = rater;
  out.rating.instrument_id = f.instrument_id();
  out.rating.answers = analytics::AnswersByItem(*instrument, answers);
  out.session_id = f.session_id();
  return out;
}

}  // namespace alliance::worker
