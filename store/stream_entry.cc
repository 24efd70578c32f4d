// Parsing of stream replies into entries; see stream_entry.h.
#include "store/stream_entry.h"

#include "common/strings.h"

namespace alliance {

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

}  // namespace alliance
