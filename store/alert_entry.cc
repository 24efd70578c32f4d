// Parsing of alert stream entries. Unknown fields are ignored and entries of an unsupported
// version are skipped, as docs/redis-layout.md requires of every reader.
#include "store/alert_entry.h"

#include <google/protobuf/util/json_util.h>

#include "store/keys.h"

namespace alliance {
namespace {

std::string_view Str(const redisReply& r) {
  if (r.type != REDIS_REPLY_STRING && r.type != REDIS_REPLY_STATUS) return {};
  return std::string_view(r.str, r.len);
}

// The value of `field` in a flat [f, v, f, v...] array; empty when absent.
std::string_view FieldValue(const redisReply& fields, std::string_view field) {
  for (size_t i = 0; i + 1 < fields.elements; i += 2) {
    if (Str(*fields.element[i]) == field) return Str(*fields.element[i + 1]);
  }
  return {};
}

}  // namespace

std::unique_ptr<AlertEntry> ParseAlertEntry(int partition, const redisReply& element,
                                            bool parse_alert) {
  if (element.type != REDIS_REPLY_ARRAY || element.elements != 2) return nullptr;
  std::optional<StreamId> id = StreamId::Parse(Str(*element.element[0]));
  if (!id) return nullptr;
  auto entry = std::make_unique<AlertEntry>();
  entry->partition = partition;
  entry->id = *id;
  const redisReply& fields = *element.element[1];
  if (fields.type != REDIS_REPLY_ARRAY) return entry;
  if (FieldValue(fields, "v") != kEntryVersion) return entry;
  entry->tenant = FieldValue(fields, "tenant");
  entry->therapist = FieldValue(fields, "therapist");
  entry->client = FieldValue(fields, "client");
  entry->alert_id = FieldValue(fields, "alert_id");
  entry->alert_json = FieldValue(fields, "alert");
  if (parse_alert) ParseAlertBody(entry.get());
  return entry;
}

void ParseAlertBody(AlertEntry* entry) {
  std::string json = std::move(entry->alert_json);
  entry->alert_json.clear();
  if (entry->tenant.empty() || json.empty()) return;
  auto alert = std::make_shared<alliance::v1::Alert>();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(json, alert.get(), options).ok()) {
    return;
  }
  // The header fields are authoritative for scoping: never serve an alert whose body names
  // another tenant than its entry.
  if (alert->tenant_id() != entry->tenant) return;
  if (alert->status() == alliance::v1::ALERT_STATUS_UNSPECIFIED) {
    alert->set_status(alliance::v1::ALERT_STATUS_OPEN);
  }
  entry->alert = std::move(alert);
}

}  // namespace alliance
