// The fast proto3 JSON printer (see fast_json.h). It walks the message with reflection in
// declaration order, as the library's printer does, and mirrors its formatting choices; the
// unit tests compare both on every alert shape the analytics library produces.
#include "worker/fast_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include <charconv>
#include <cmath>
#include <string_view>
#include <system_error>

namespace alliance::worker {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The library prints doubles with SimpleDtoa: 15 significant digits when that reads back
// exactly, else 17 (printf's %.15g / %.17g, which std::to_chars reproduces without the locale
// and at a fraction of the cost).
bool AppendDouble(double value, std::string* out) {
  if (!std::isfinite(value)) return false;  // quoted "NaN"/"Infinity": leave to the library
  char buf[32];
  std::to_chars_result printed =
      std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 15);
  if (printed.ec != std::errc()) return false;
  double back = 0;
  std::from_chars_result parsed = std::from_chars(buf, printed.ptr, back);
  if (parsed.ec != std::errc() || parsed.ptr != printed.ptr || back != value) {
    printed = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 17);
    if (printed.ec != std::errc()) return false;
  }
  out->append(buf, printed.ptr);
  return true;
}

// Plain printable ASCII that no JSON printer escapes; anything else goes to the library, which
// knows its own escaping rules.
bool AppendString(std::string_view s, std::string* out) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' ||
        c == '\'' || c == '=' || c == '/') {
      return false;
    }
  }
  out->push_back('"');
  out->append(s);
  out->push_back('"');
  return true;
}

bool AppendTimestamp(const Message& message, std::string* out) {
  const auto* ts = dynamic_cast<const google::protobuf::Timestamp*>(&message);
  if (ts == nullptr) return false;
  // The range RFC 3339 can express; the library refuses anything else.
  if (ts->seconds() < -62135596800 || ts->seconds() > 253402300799 || ts->nanos() < 0 ||
      ts->nanos() > 999999999) {
    return false;
  }
  out->push_back('"');
  out->append(google::protobuf::util::TimeUtil::ToString(*ts));
  out->push_back('"');
  return true;
}

bool AppendMessage(const Message& message, std::string* out);

// One value of `field` (element `index` when repeated, else -1).
bool AppendValue(const Message& message, const Reflection& r, const FieldDescriptor& field,
                 int index, std::string* out) {
  const bool rep = index >= 0;
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      out->append(std::to_string(rep ? r.GetRepeatedInt32(message, &field, index)
                                     : r.GetInt32(message, &field)));
      return true;
    case FieldDescriptor::CPPTYPE_UINT32:
      out->append(std::to_string(rep ? r.GetRepeatedUInt32(message, &field, index)
                                     : r.GetUInt32(message, &field)));
      return true;
    case FieldDescriptor::CPPTYPE_INT64:
      out->push_back('"');
      out->append(std::to_string(rep ? r.GetRepeatedInt64(message, &field, index)
                                     : r.GetInt64(message, &field)));
      out->push_back('"');
      return true;
    case FieldDescriptor::CPPTYPE_UINT64:
      out->push_back('"');
      out->append(std::to_string(rep ? r.GetRepeatedUInt64(message, &field, index)
                                     : r.GetUInt64(message, &field)));
      out->push_back('"');
      return true;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((rep ? r.GetRepeatedBool(message, &field, index) : r.GetBool(message, &field))
                      ? "true"
                      : "false");
      return true;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return AppendDouble(
          rep ? r.GetRepeatedDouble(message, &field, index) : r.GetDouble(message, &field), out);
    case FieldDescriptor::CPPTYPE_ENUM: {
      int number =
          rep ? r.GetRepeatedEnumValue(message, &field, index) : r.GetEnumValue(message, &field);
      const auto* value = field.enum_type()->FindValueByNumber(number);
      if (value == nullptr) return false;  // an unknown number: printed as a number there
      out->push_back('"');
      out->append(value->name());
      out->push_back('"');
      return true;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      if (field.type() != FieldDescriptor::TYPE_STRING) return false;  // bytes: base64
      std::string scratch;
      const std::string& s = rep ? r.GetRepeatedStringReference(message, &field, index, &scratch)
                                 : r.GetStringReference(message, &field, &scratch);
      return AppendString(s, out);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& sub =
          rep ? r.GetRepeatedMessage(message, &field, index) : r.GetMessage(message, &field);
      const std::string& type = field.message_type()->full_name();
      if (type == "google.protobuf.Timestamp") return AppendTimestamp(sub, out);
      if (type.rfind("google.protobuf.", 0) == 0) return false;  // other well-known types
      return AppendMessage(sub, out);
    }
    default:
      return false;  // float: printed with 6 digits there
  }
}

bool AppendMessage(const Message& message, std::string* out) {
  const Descriptor& d = *message.GetDescriptor();
  const Reflection& r = *message.GetReflection();
  if (d.file()->syntax() != google::protobuf::FileDescriptor::SYNTAX_PROTO3) return false;
  out->push_back('{');
  bool first = true;
  for (int i = 0; i < d.field_count(); ++i) {
    const FieldDescriptor& field = *d.field(i);
    // Maps and oneofs (proto3 optional included) have presence rules of their own.
    if (field.is_map() || field.containing_oneof() != nullptr) return false;
    if (field.is_repeated() ? r.FieldSize(message, &field) == 0 : !r.HasField(message, &field)) {
      continue;
    }
    if (!first) out->push_back(',');
    first = false;
    out->push_back('"');
    out->append(field.json_name());
    out->append("\":");
    if (field.is_repeated()) {
      out->push_back('[');
      for (int k = 0; k < r.FieldSize(message, &field); ++k) {
        if (k > 0) out->push_back(',');
        if (!AppendValue(message, r, field, k, out)) return false;
      }
      out->push_back(']');
    } else if (!AppendValue(message, r, field, -1, out)) {
      return false;
    }
  }
  out->push_back('}');
  return true;
}

}  // namespace

bool AppendFastJson(const Message& message, std::string* out) {
  return AppendMessage(message, out);
}

}  // namespace alliance::worker
