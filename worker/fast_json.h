// A fast proto3 JSON printer for the messages the worker writes to the alert streams. It
// produces the same text as google::protobuf::util::MessageToJsonString with default options
// (camelCase names, default values omitted, enums by name, int64 as strings, Timestamps in
// RFC 3339) at a fraction of its cost, for the shapes it knows: scalar, enum, string,
// Timestamp and nested message fields, repeated or not, with strings of plain ASCII. For
// anything else it declines, and the caller uses the library.
#ifndef ALLIANCE_WORKER_FAST_JSON_H_
#define ALLIANCE_WORKER_FAST_JSON_H_

#include <google/protobuf/message.h>

#include <string>

namespace alliance::worker {

// Appends `message` as JSON to `out`; false (and `out` unspecified) when it contains a shape
// this printer does not handle.
bool AppendFastJson(const google::protobuf::Message& message, std::string* out);

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_FAST_JSON_H_
