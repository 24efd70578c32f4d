// QuestionnaireResponse -> Feedback (FeedbackFromQuestionnaireResponse) and the error helpers of
// questionnaire_response.h. Every access checks the JSON type first; nlohmann is used with
// exceptions disabled at the parse and never reaches a throwing accessor unchecked.
#include "common/fhir/questionnaire_response.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "analytics/scoring.h"
#include "common/fhir/fhir_json.h"
#include "common/fhir/questionnaire.h"
#include "common/strings.h"

namespace alliance::fhir {
namespace {

using Json = nlohmann::json;

constexpr char kRoot[] = "QuestionnaireResponse";
constexpr int kMaxSessionNumber = 100000;  // services/intake/validation.h
constexpr size_t kMaxIdLength = 128;
absl::Status Bad(std::string_view path, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Absl(path), ": ", Absl(why)));
}

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), IsIdChar);
}

// Caller text is echoed in errors only when it is a short, well-formed identifier.
std::string Echo(std::string_view text) {
  if (text.size() <= 64 && IsValidId(text)) return absl::StrCat(" \"", Absl(text), "\"");
  return "";
}

std::string Member(std::string_view path, std::string_view key) {
  return absl::StrCat(Absl(path), ".", Absl(key));
}
std::string Index(std::string_view path, size_t i) { return absl::StrCat(Absl(path), "[", i, "]"); }

const Json* Find(const Json& object, std::string_view key) {
  auto it = object.find(std::string(key));
  return it == object.end() ? nullptr : &*it;
}

// Refuses modifier extensions (Alliance understands none) and any key that is not an element
// of this FHIR type that Alliance reads or may safely ignore.
absl::Status CheckKeys(const Json& object, std::string_view path,
                       std::initializer_list<std::string_view> allowed) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    if (key == "modifierExtension" || key == "implicitRules") {
      return Bad(Member(path, key), "is a modifier Alliance does not understand; it is refused");
    }
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      bool plain = key.size() <= 64 && std::all_of(key.begin(), key.end(), [](char c) {
                     return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
                   });
      return plain ? Bad(Member(path, key), "is not an element Alliance accepts here")
                   : Bad(path, "holds an element Alliance does not accept");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckArraySize(const Json& array, std::string_view path) {
  if (!array.is_array()) return Bad(path, "must be an array");
  if (array.size() > kMaxArrayEntries) {
    return Bad(path, absl::StrCat("has ", array.size(), " entries; at most ", kMaxArrayEntries,
                                  " are accepted"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadString(const Json& object, std::string_view path,
                                       std::string_view key) {
  const Json* v = Find(object, key);
  if (v == nullptr) return Bad(Member(path, key), "is required");
  if (!v->is_string()) return Bad(Member(path, key), "must be a string");
  return v->get<std::string>();
}

absl::Status CheckIdValue(std::string_view path, std::string_view value) {
  if (value.size() > kMaxIdLength) {
    return Bad(path, absl::StrCat("is ", value.size(), " characters long; at most ", kMaxIdLength,
                                  " are allowed"));
  }
  if (!IsValidId(value)) return Bad(path, "must be 1..128 characters of [A-Za-z0-9._-]");
  return absl::OkStatus();
}

struct IdentifierValue {
  std::string system;
  std::string value;
};

// An Identifier whose system is one of `systems` and whose value follows the id rules.
absl::StatusOr<IdentifierValue> ReadIdentifier(const Json& id, std::string_view path,
                                               std::initializer_list<std::string_view> systems) {
  if (!id.is_object()) return Bad(path, "must be an Identifier object");
  if (absl::Status s = CheckKeys(
          id, path, {"id", "extension", "use", "type", "system", "value", "period", "assigner"});
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> system = ReadString(id, path, "system");
  if (!system.ok()) return system.status();
  if (std::find(systems.begin(), systems.end(), *system) == systems.end()) {
    std::string expected;
    for (std::string_view s : systems) {
      absl::StrAppend(&expected, expected.empty() ? "" : " or ", Absl(s));
    }
    return Bad(Member(path, "system"), absl::StrCat("must be ", expected));
  }
  absl::StatusOr<std::string> value = ReadString(id, path, "value");
  if (!value.ok()) return value.status();
  if (absl::Status s = CheckIdValue(Member(path, "value"), *value); !s.ok()) return s;
  return IdentifierValue{*system, *value};
}

// A Reference by identifier (a literal reference alone names nothing Alliance knows).
absl::StatusOr<IdentifierValue> ReadReference(const Json& ref, std::string_view path,
                                              std::string_view expected_type,
                                              std::initializer_list<std::string_view> systems) {
  if (!ref.is_object()) return Bad(path, "must be a Reference object");
  if (absl::Status s =
          CheckKeys(ref, path, {"id", "extension", "reference", "type", "identifier", "display"});
      !s.ok()) {
    return s;
  }
  if (const Json* type = Find(ref, "type")) {
    if (!type->is_string()) return Bad(Member(path, "type"), "must be a string");
    if (!expected_type.empty() && type->get<std::string>() != expected_type) {
      return Bad(Member(path, "type"), absl::StrCat("must be ", Absl(expected_type)));
    }
  }
  const Json* id = Find(ref, "identifier");
  if (id == nullptr) {
    return Bad(Member(path, "identifier"),
               "is required: Alliance references by identifier (Reference.identifier)");
  }
  return ReadIdentifier(*id, Member(path, "identifier"), systems);
}

std::optional<int> DigitPairs(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// A FHIR dateTime with date, time (seconds required) and zone: YYYY-MM-DDThh:mm:ss[.f+](Z|±hh:mm).
absl::StatusOr<absl::Time> ParseAuthored(std::string_view s, std::string_view path) {
  constexpr std::string_view kExample = "e.g. 2026-03-01T09:30:00Z";
  auto year = DigitPairs(s, 0, 4), month = DigitPairs(s, 5, 2), day = DigitPairs(s, 8, 2);
  if (!year || !month || !day || s.size() < 10 || s[4] != '-' || s[7] != '-') {
    return Bad(path, absl::StrCat("must be a FHIR dateTime with time and zone, ", Absl(kExample)));
  }
  if (s.size() == 10) {
    return Bad(path, absl::StrCat("must include a time and a zone (", Absl(kExample),
                                  "); a date alone does not order sessions"));
  }
  auto hour = DigitPairs(s, 11, 2), minute = DigitPairs(s, 14, 2), second = DigitPairs(s, 17, 2);
  if (s[10] != 'T' || !hour || !minute || !second || s[13] != ':' || s[16] != ':') {
    return Bad(path, absl::StrCat("must be a FHIR dateTime with time (seconds included) and zone, ",
                                  Absl(kExample)));
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return Bad(path, "has a '.' without fraction digits");
    for (size_t d = digits; d < 9; ++d) nanos *= 10;
  }
  int offset_minutes = 0;
  if (pos == s.size()) {
    return Bad(path, absl::StrCat("must include a time zone (Z or +hh:mm), ", Absl(kExample)));
  }
  if (s[pos] == 'Z' && pos + 1 == s.size()) {
    offset_minutes = 0;
  } else if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size() && s[pos + 3] == ':') {
    auto oh = DigitPairs(s, pos + 1, 2), om = DigitPairs(s, pos + 4, 2);
    if (!oh || !om || *oh > 14 || *om > 59) return Bad(path, "has an invalid time zone offset");
    offset_minutes = (*oh * 60 + *om) * (s[pos] == '-' ? -1 : 1);
  } else {
    return Bad(path, absl::StrCat("must end with a time zone (Z or +hh:mm), ", Absl(kExample)));
  }
  absl::CivilSecond civil(*year, *month, *day, *hour, *minute, *second);
  if (civil.year() != *year || civil.month() != *month || civil.day() != *day ||
      civil.hour() != *hour || civil.minute() != *minute || civil.second() != *second) {
    return Bad(path, "is not a valid calendar date and time");
  }
  return absl::FromCivil(civil, absl::UTCTimeZone()) - absl::Minutes(offset_minutes) +
         absl::Nanoseconds(nanos);
}

bool IntegerItems(const analytics::Instrument& ins) {
  auto whole = [](double v) { return std::isfinite(v) && std::fabs(v - std::round(v)) < 1e-9; };
  return whole(ins.item_min) && whole(ins.step) && whole(ins.item_max);
}

// Reads the items of a response, flat or nested in the subscale groups the Questionnaire defines.
class ItemReader {
 public:
  explicit ItemReader(const analytics::Instrument& ins) : ins_(ins) {
    integer_ = IntegerItems(ins);
    if (QuestionnaireUsesGroups(ins)) {
      for (const analytics::Subscale& sub : ins.subscales) {
        groups_[SubscaleGroupLinkId(sub.name)] = std::set<int>(sub.items.begin(), sub.items.end());
      }
    }
  }

  absl::Status ReadList(const Json& items, std::string_view path, const std::set<int>* group) {
    if (absl::Status s = CheckArraySize(items, path); !s.ok()) return s;
    if (items.empty()) return Bad(path, "must not be empty");
    for (size_t i = 0; i < items.size(); ++i) {
      if (absl::Status s = ReadItem(items[i], Index(path, i), group); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status CheckComplete() const {
    for (int item = 1; item <= ins_.item_count; ++item) {
      if (answers_.count(item) == 0) {
        return Bad(absl::StrCat(kRoot, ".item"),
                   absl::StrCat("item ", item, " of questionnaire ", ins_.id, " is missing"));
      }
    }
    return absl::OkStatus();
  }

  const std::map<int, double>& answers() const { return answers_; }

 private:
  absl::Status ReadItem(const Json& item, const std::string& path, const std::set<int>* group) {
    if (!item.is_object()) return Bad(path, "must be an object");
    if (absl::Status s = CheckKeys(
            item, path, {"id", "extension", "linkId", "definition", "text", "answer", "item"});
        !s.ok()) {
      return s;
    }
    absl::StatusOr<std::string> link = ReadString(item, path, "linkId");
    if (!link.ok()) return link.status();
    std::string link_path = Member(path, "linkId");
    if (auto g = groups_.find(*link); g != groups_.end() && group == nullptr) {
      if (!seen_groups_.insert(*link).second) {
        return Bad(link_path, absl::StrCat("group", Echo(*link), " appears twice"));
      }
      if (Find(item, "answer") != nullptr) {
        return Bad(Member(path, "answer"), "a group item has no answers");
      }
      const Json* children = Find(item, "item");
      if (children == nullptr) return Bad(Member(path, "item"), "is required in a group");
      return ReadList(*children, Member(path, "item"), &g->second);
    }
    int number = ItemNumber(*link);
    if (number == 0) {
      return Bad(link_path, absl::StrCat("unknown linkId", Echo(*link), " for questionnaire ",
                                         ins_.id, " (items are \"1\"..\"", ins_.item_count, "\"",
                                         groups_.empty() ? "" : " or its subscale groups", ")"));
    }
    if (group != nullptr && group->count(number) == 0) {
      return Bad(link_path, absl::StrCat("item ", number, " is not in this group"));
    }
    if (answers_.count(number) > 0) {
      return Bad(link_path, absl::StrCat("item ", number, " is answered twice"));
    }
    if (Find(item, "item") != nullptr) {
      return Bad(Member(path, "item"), "a question item has no nested items");
    }
    const Json* answer = Find(item, "answer");
    std::string answer_path = Member(path, "answer");
    if (answer == nullptr) return Bad(answer_path, absl::StrCat("item ", number, " is unanswered"));
    if (!answer->is_array()) return Bad(answer_path, "must be an array");
    if (answer->size() != 1) {
      return Bad(answer_path,
                 absl::StrCat("must hold exactly one answer; it holds ", answer->size()));
    }
    absl::StatusOr<double> value = ReadAnswer((*answer)[0], Index(answer_path, 0), number);
    if (!value.ok()) return value.status();
    answers_[number] = *value;
    return absl::OkStatus();
  }

  absl::StatusOr<double> ReadAnswer(const Json& answer, const std::string& path, int number) {
    if (!answer.is_object()) return Bad(path, "must be an object");
    std::string_view want = integer_ ? "valueInteger" : "valueDecimal";
    const Json* value = nullptr;
    for (auto it = answer.begin(); it != answer.end(); ++it) {
      const std::string& key = it.key();
      if (key == "id" || key == "extension") continue;
      if (key == want) {
        value = &it.value();
        continue;
      }
      bool letters = key.size() <= 64 && std::all_of(key.begin(), key.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
                     });
      if (letters && key.rfind("value", 0) == 0) {
        return Bad(Member(path, key), absl::StrCat("item ", number, " of questionnaire ", ins_.id,
                                                   " takes ", Absl(want)));
      }
      return Bad(path, "holds an element Alliance does not accept");
    }
    std::string value_path = Member(path, want);
    if (value == nullptr) return Bad(value_path, "is required");
    double v = 0;
    if (integer_) {
      if (!value->is_number_integer()) return Bad(value_path, "must be an integer");
      v = value->is_number_unsigned() ? static_cast<double>(value->get<uint64_t>())
                                      : static_cast<double>(value->get<int64_t>());
    } else {
      if (!value->is_number()) return Bad(value_path, "must be a number");
      v = value->get<double>();
    }
    if (std::string problem = analytics::AnswerProblem(ins_, v); !problem.empty()) {
      return Bad(value_path, absl::StrCat(problem, " for item ", number));
    }
    return v;
  }

  // 1..item_count for a canonical item number ("1", not "01" or "+1"); 0 otherwise.
  int ItemNumber(std::string_view link) const {
    if (link.empty() || link.size() > 6 || link[0] == '0') return 0;
    int n = 0;
    for (char c : link) {
      if (c < '0' || c > '9') return 0;
      n = n * 10 + (c - '0');
    }
    return n >= 1 && n <= ins_.item_count ? n : 0;
  }

  const analytics::Instrument& ins_;
  bool integer_ = true;
  std::map<std::string, std::set<int>, std::less<>> groups_;
  std::set<std::string> seen_groups_;
  std::map<int, double> answers_;
};

struct Extensions {
  std::optional<int> session_number;
  std::optional<std::string> therapist_id;
};

absl::StatusOr<Extensions> ReadExtensions(const Json& root) {
  Extensions out;
  const Json* list = Find(root, "extension");
  if (list == nullptr) return out;
  std::string path = Member(kRoot, "extension");
  if (absl::Status s = CheckArraySize(*list, path); !s.ok()) return s;
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& ext = (*list)[i];
    std::string p = Index(path, i);
    if (!ext.is_object()) return Bad(p, "must be an Extension object");
    absl::StatusOr<std::string> url = ReadString(ext, p, "url");
    if (!url.ok()) return url.status();
    if (*url == kSessionNumberExtension) {
      if (out.session_number) return Bad(p, "the session-number extension appears twice");
      const Json* v = Find(ext, "valuePositiveInt");
      std::string vp = Member(p, "valuePositiveInt");
      if (v == nullptr) return Bad(vp, "is required");
      if (!v->is_number_integer()) return Bad(vp, "must be a positive integer");
      if (v->is_number_unsigned() ? v->get<uint64_t>() == 0 : v->get<int64_t>() < 1) {
        return Bad(vp, "must be at least 1");
      }
      if (v->is_number_unsigned() ? v->get<uint64_t>() > kMaxSessionNumber
                                  : v->get<int64_t>() > kMaxSessionNumber) {
        return Bad(vp, absl::StrCat("must be at most ", kMaxSessionNumber));
      }
      out.session_number = static_cast<int>(v->get<int64_t>());
    } else if (*url == kTherapistExtension) {
      if (out.therapist_id) return Bad(p, "the therapist extension appears twice");
      const Json* v = Find(ext, "valueReference");
      std::string vp = Member(p, "valueReference");
      if (v == nullptr) return Bad(vp, "is required");
      absl::StatusOr<IdentifierValue> id =
          ReadReference(*v, vp, "Practitioner", {kTherapistSystem});
      if (!id.ok()) return id.status();
      out.therapist_id = id->value;
    }
    // Other extensions carry nothing Alliance stores; FHIR lets a reader ignore them.
  }
  return out;
}

absl::Status StatusOf(const Json& root) {
  absl::StatusOr<std::string> status = ReadString(root, kRoot, "status");
  if (!status.ok()) return status.status();
  if (*status != "completed") {
    return Bad(Member(kRoot, "status"),
               absl::StrCat("must be \"completed\"; got",
                            Echo(*status).empty() ? " another value" : Echo(*status)));
  }
  return absl::OkStatus();
}

absl::StatusOr<const analytics::Instrument*> QuestionnaireOf(
    const Json& root, const analytics::InstrumentRegistry& registry) {
  absl::StatusOr<std::string> canonical = ReadString(root, kRoot, "questionnaire");
  if (!canonical.ok()) return canonical.status();
  std::string path = Member(kRoot, "questionnaire");
  std::string prefix = QuestionnaireUrl("");
  std::string_view text = *canonical;
  if (text.rfind(prefix, 0) != 0) {
    return Bad(path, absl::StrCat("must be ", prefix, "<instrument id>, optionally |<version>"));
  }
  text.remove_prefix(prefix.size());
  std::optional<std::string_view> version;
  if (size_t bar = text.find('|'); bar != std::string_view::npos) {
    version = text.substr(bar + 1);
    text = text.substr(0, bar);
  }
  const analytics::Instrument* ins = registry.Find(text);
  if (ins == nullptr) return Bad(path, absl::StrCat("unknown questionnaire", Echo(text)));
  if (version) {
    std::string current = QuestionnaireVersion(*ins);
    if (*version != current) {
      return Bad(path, absl::StrCat("version", Echo(*version).empty() ? "" : Echo(*version),
                                    " of questionnaire ", ins->id, " is not the current one (",
                                    current, ")"));
    }
  }
  return ins;
}

}  // namespace

absl::StatusOr<alliance::v1::Feedback> FeedbackFromQuestionnaireResponse(
    std::string_view text, const analytics::InstrumentRegistry& registry) {
  if (text.size() > kMaxQuestionnaireResponseBytes) {
    return Bad(kRoot, absl::StrCat("is ", text.size(), " bytes; at most ",
                                   kMaxQuestionnaireResponseBytes, " are accepted"));
  }
  Json root = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Bad(kRoot, "is not valid JSON");
  if (!root.is_object()) return Bad(kRoot, "must be a JSON object");
  {
    const Json* type = Find(root, "resourceType");
    if (type == nullptr) return Bad(Member(kRoot, "resourceType"), "is required");
    if (!type->is_string() || type->get<std::string>() != kRoot) {
      return Bad(Member(kRoot, "resourceType"), "must be \"QuestionnaireResponse\"");
    }
  }
  if (absl::Status s =
          CheckKeys(root, kRoot,
                    {"resourceType", "id", "meta", "language", "text", "contained", "extension",
                     "identifier", "basedOn", "partOf", "questionnaire", "status", "subject",
                     "encounter", "authored", "author", "source", "item"});
      !s.ok()) {
    return s;
  }
  if (absl::Status s = StatusOf(root); !s.ok()) return s;
  absl::StatusOr<const analytics::Instrument*> instrument = QuestionnaireOf(root, registry);
  if (!instrument.ok()) return instrument.status();
  const analytics::Instrument& ins = **instrument;

  alliance::v1::Feedback feedback;
  feedback.set_instrument_id(ins.id);
  const Json* identifier = Find(root, "identifier");
  if (identifier == nullptr) {
    return Bad(Member(kRoot, "identifier"),
               absl::StrCat("is required (system ", kSubmissionSystem,
                            ", value: the submission's idempotency id)"));
  }
  absl::StatusOr<IdentifierValue> submission =
      ReadIdentifier(*identifier, Member(kRoot, "identifier"), {kSubmissionSystem});
  if (!submission.ok()) return submission.status();
  feedback.set_idempotency_id(submission->value);

  const Json* subject = Find(root, "subject");
  if (subject == nullptr) return Bad(Member(kRoot, "subject"), "is required");
  absl::StatusOr<IdentifierValue> client =
      ReadReference(*subject, Member(kRoot, "subject"), "Patient", {kClientSystem});
  if (!client.ok()) return client.status();
  feedback.set_client_id(client->value);

  const Json* encounter = Find(root, "encounter");
  if (encounter == nullptr) return Bad(Member(kRoot, "encounter"), "is required");
  absl::StatusOr<IdentifierValue> session =
      ReadReference(*encounter, Member(kRoot, "encounter"), "Encounter", {kSessionSystem});
  if (!session.ok()) return session.status();
  feedback.set_session_id(session->value);

  const Json* author = Find(root, "author");
  if (author == nullptr) return Bad(Member(kRoot, "author"), "is required");
  absl::StatusOr<IdentifierValue> rater = ReadReference(
      *author, Member(kRoot, "author"), "", {kClientSystem, kTherapistSystem, kObserverSystem});
  if (!rater.ok()) return rater.status();

  absl::StatusOr<Extensions> ext = ReadExtensions(root);
  if (!ext.ok()) return ext.status();
  if (!ext->session_number) {
    return Bad(Member(kRoot, "extension"),
               absl::StrCat("the session-number extension (", kSessionNumberExtension,
                            ", valuePositiveInt) is required"));
  }
  feedback.set_session_number(*ext->session_number);

  std::string author_value_path = Member(kRoot, "author.identifier.value");
  analytics::Rater native_rater = analytics::Rater::kUnspecified;
  if (rater->system == kTherapistSystem) {
    native_rater = analytics::Rater::kTherapist;
    if (ext->therapist_id && *ext->therapist_id != rater->value) {
      return Bad(Member(kRoot, "extension"),
                 "the therapist extension names another therapist than the author");
    }
    feedback.set_therapist_id(rater->value);
  } else {
    native_rater =
        rater->system == kClientSystem ? analytics::Rater::kClient : analytics::Rater::kObserver;
    if (native_rater == analytics::Rater::kClient && rater->value != client->value) {
      return Bad(author_value_path, "a client author must be the subject");
    }
    if (!ext->therapist_id) {
      return Bad(Member(kRoot, "extension"),
                 absl::StrCat("the therapist extension (", kTherapistExtension,
                              ") is required when the author is not the therapist"));
    }
    feedback.set_therapist_id(*ext->therapist_id);
  }
  feedback.set_rater(static_cast<alliance::v1::Rater>(native_rater));

  absl::StatusOr<std::string> authored = ReadString(root, kRoot, "authored");
  if (!authored.ok()) return authored.status();
  absl::StatusOr<absl::Time> when = ParseAuthored(*authored, Member(kRoot, "authored"));
  if (!when.ok()) return when.status();
  if (*when <= absl::UnixEpoch()) {
    return Bad(Member(kRoot, "authored"), "must be after 1970-01-01T00:00:00Z");
  }
  absl::Duration since_epoch = *when - absl::UnixEpoch();
  int64_t seconds = absl::IDivDuration(since_epoch, absl::Seconds(1), &since_epoch);
  feedback.mutable_session_time()->set_seconds(seconds);
  feedback.mutable_session_time()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(since_epoch)));

  if (!ins.AllowsRater(native_rater)) {
    return Bad(Member(kRoot, "author"), absl::StrCat("a ", Absl(internal::RaterCode(native_rater)),
                                                     " may not fill in questionnaire ", ins.id));
  }

  const Json* items = Find(root, "item");
  if (items == nullptr) return Bad(Member(kRoot, "item"), "is required");
  ItemReader reader(ins);
  if (absl::Status s = reader.ReadList(*items, Member(kRoot, "item"), nullptr); !s.ok()) return s;
  if (absl::Status s = reader.CheckComplete(); !s.ok()) return s;
  for (const auto& [item, value] : reader.answers()) {
    alliance::v1::ItemAnswer* answer = feedback.add_answers();
    answer->set_item(item);
    answer->set_value(value);
  }
  return feedback;
}

namespace {

// A FHIRPath as this library writes them: a resource type, then '.', names and [n] indexes.
bool LooksLikeFhirPath(std::string_view s) {
  if (s.empty() || s[0] < 'A' || s[0] > 'Z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '[' || c == ']' || c == '_' || c == '-';
  });
}

std::string_view IssueType(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return "informational";
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return "invalid";
    case absl::StatusCode::kUnauthenticated:
      return "login";
    case absl::StatusCode::kPermissionDenied:
      return "forbidden";
    case absl::StatusCode::kNotFound:
      return "not-found";
    case absl::StatusCode::kAlreadyExists:
      return "duplicate";
    case absl::StatusCode::kResourceExhausted:
      return "throttled";
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:
      return "transient";
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    case absl::StatusCode::kAborted:
      return "conflict";
    case absl::StatusCode::kFailedPrecondition:
      return "business-rule";
    case absl::StatusCode::kUnimplemented:
      return "not-supported";
    default:
      return "exception";
  }
}

}  // namespace

Issue IssueFromStatus(const absl::Status& status) {
  std::string_view message = Std(status.message());
  size_t colon = message.find(": ");
  if (colon != std::string_view::npos && LooksLikeFhirPath(message.substr(0, colon))) {
    return Issue{std::string(message.substr(0, colon)), std::string(message.substr(colon + 2))};
  }
  return Issue{"", std::string(message)};
}

std::string OperationOutcomeJson(const absl::Status& status) {
  using OJson = internal::Json;
  Issue issue = IssueFromStatus(status);
  OJson entry = OJson::object();
  entry["severity"] = status.ok() ? "information" : "error";
  entry["code"] = std::string(IssueType(status.code()));
  std::string diagnostics(Std(status.message()));
  if (diagnostics.empty())
    diagnostics = status.ok() ? "OK" : absl::StatusCodeToString(status.code());
  entry["diagnostics"] = diagnostics;
  if (!issue.expression.empty()) entry["expression"] = OJson::array({issue.expression});
  OJson outcome = OJson::object();
  outcome["resourceType"] = "OperationOutcome";
  outcome["issue"] = OJson::array({std::move(entry)});
  return internal::Dump(outcome);
}

}  // namespace alliance::fhir
