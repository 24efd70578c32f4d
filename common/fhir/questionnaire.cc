// Questionnaire, Questionnaire Bundle and CodeSystem of questionnaire.h.
#include "common/fhir/questionnaire.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

#include "analytics/hash.h"
#include "common/fhir/fhir_json.h"

namespace alliance::fhir {
namespace {

using internal::Json;

// Doubles written into the version hash: 17 significant digits read back exactly.
std::string Exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

bool IsWhole(double v) { return std::isfinite(v) && std::fabs(v - std::round(v)) < 1e-9; }

// Items are integers when every answer is: the minimum and the step are whole numbers.
bool IntegerItems(const analytics::Instrument& ins) {
  return IsWhole(ins.item_min) && IsWhole(ins.step) && IsWhole(ins.item_max);
}

// Decimal places of the step (0.1 -> 1, 0.25 -> 2), at most 6.
int DecimalPlaces(double step) {
  for (int places = 0; places <= 6; ++places) {
    double scaled = step * std::pow(10.0, places);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) return places;
  }
  return 6;
}

Json NumberValue(const analytics::Instrument& ins, double v) {
  if (IntegerItems(ins)) return Json(static_cast<int64_t>(std::llround(v)));
  return Json(v);
}

Json ValueExtension(std::string_view url, std::string_view value_key, Json value) {
  Json ext = Json::object();
  ext["url"] = std::string(url);
  ext[std::string(value_key)] = std::move(value);
  return ext;
}

// A computable name: "Alliance" + the id's alphanumeric runs capitalised ("wai-sr" ->
// AllianceWaiSr).
std::string ComputableName(std::string_view id) {
  std::string name = "Alliance";
  bool upper = true;
  for (char c : id) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    } else {
      upper = true;
    }
  }
  return name;
}

Json QuestionItem(const analytics::Instrument& ins, int item,
                  const std::vector<std::string>& subscales_of_item) {
  Json q = Json::object();
  q["linkId"] = std::to_string(item);
  q["prefix"] = std::to_string(item);
  // Item wording is licensed and never held: the form shows the item number.
  q["text"] = "Item " + std::to_string(item);
  bool integer = IntegerItems(ins);
  q["type"] = integer ? "integer" : "decimal";
  q["required"] = true;
  q["repeats"] = false;
  std::string_view value_key = integer ? "valueInteger" : "valueDecimal";
  Json ext = Json::array();
  ext.push_back(ValueExtension(kMinValueExtension, value_key, NumberValue(ins, ins.item_min)));
  ext.push_back(ValueExtension(kMaxValueExtension, value_key, NumberValue(ins, ins.item_max)));
  if (!integer) {
    ext.push_back(
        ValueExtension(kMaxDecimalPlacesExtension, "valueInteger", Json(DecimalPlaces(ins.step))));
  }
  ext.push_back(ValueExtension(kAnswerStepExtension, "valueDecimal", Json(ins.step)));
  if (std::find(ins.reverse_items.begin(), ins.reverse_items.end(), item) !=
      ins.reverse_items.end()) {
    ext.push_back(ValueExtension(kReverseScoredExtension, "valueBoolean", Json(true)));
  }
  for (const std::string& sub : subscales_of_item) {
    ext.push_back(ValueExtension(kSubscaleExtension, "valueCode", Json(sub)));
  }
  q["extension"] = std::move(ext);
  return q;
}

std::string InstrumentDisplay(const analytics::InstrumentRegistry& registry, std::string_view id) {
  const analytics::Instrument* ins = registry.Find(id);
  return ins != nullptr && !ins->name.empty() ? ins->name : std::string(id);
}

Json Concept(std::string code, std::string display, std::string definition) {
  Json c = Json::object();
  c["code"] = std::move(code);
  c["display"] = std::move(display);
  c["definition"] = std::move(definition);
  return c;
}

}  // namespace

std::string QuestionnaireUrl(std::string_view instrument_id) {
  return std::string(kBase) + "/Questionnaire/" + std::string(instrument_id);
}

std::string QuestionnaireVersion(const analytics::Instrument& ins) {
  // One canonical text of the form-defining fields, independent of JSON key order and spacing.
  std::string canonical = "alliance.questionnaire.v1|" + ins.id + "|" +
                          std::to_string(ins.item_count) + "|" + Exact(ins.item_min) + "|" +
                          Exact(ins.item_max) + "|" + Exact(ins.step) + "|raters";
  std::vector<int> raters;
  for (analytics::Rater r : ins.raters) raters.push_back(static_cast<int>(r));
  std::sort(raters.begin(), raters.end());
  for (int r : raters) canonical += "," + std::to_string(r);
  std::vector<int> reverse = ins.reverse_items;
  std::sort(reverse.begin(), reverse.end());
  canonical += "|reverse";
  for (int i : reverse) canonical += "," + std::to_string(i);
  for (const analytics::Subscale& sub : ins.subscales) {
    canonical += "|subscale:" + sub.name;
    std::vector<int> items = sub.items;
    std::sort(items.begin(), items.end());
    for (int i : items) canonical += "," + std::to_string(i);
  }
  return analytics::Hash128Hex({canonical}).substr(0, 12);
}

bool QuestionnaireUsesGroups(const analytics::Instrument& ins) {
  if (ins.subscales.empty()) return false;
  std::vector<int> count(static_cast<size_t>(std::max(ins.item_count, 0)), 0);
  for (const analytics::Subscale& sub : ins.subscales) {
    for (int item : sub.items) {
      if (item >= 1 && item <= ins.item_count) ++count[static_cast<size_t>(item - 1)];
    }
  }
  return std::all_of(count.begin(), count.end(), [](int c) { return c == 1; });
}

std::string SubscaleGroupLinkId(std::string_view subscale_name) {
  return "subscale-" + std::string(subscale_name);
}

std::string TotalCode(std::string_view instrument_id) {
  return std::string(instrument_id) + ".total";
}

std::string SubscaleCode(std::string_view instrument_id, std::string_view subscale_name) {
  return std::string(instrument_id) + "." + std::string(subscale_name);
}

namespace {

Json QuestionnaireObject(const analytics::Instrument& ins) {
  Json q = Json::object();
  q["resourceType"] = "Questionnaire";
  if (internal::IsFhirId(ins.id)) q["id"] = ins.id;
  Json raters = Json::array();
  for (analytics::Rater r : ins.raters) {
    raters.push_back(ValueExtension(kRaterExtension, "valueCode", Json(internal::RaterCode(r))));
  }
  q["extension"] = std::move(raters);
  q["url"] = QuestionnaireUrl(ins.id);
  q["version"] = QuestionnaireVersion(ins);
  q["name"] = ComputableName(ins.id);
  q["title"] = ins.name.empty() ? ins.id : ins.name;
  q["status"] = "active";
  q["subjectType"] = Json::array({"Patient"});
  q["publisher"] = "Alliance";
  if (!ins.references.empty()) q["description"] = ins.references;
  q["code"] = Json::array({internal::CodingJson(kCodeSystemUrl, TotalCode(ins.id),
                                                q["title"].get<std::string>() + " total")});
  Json items = Json::array();
  if (QuestionnaireUsesGroups(ins)) {
    for (const analytics::Subscale& sub : ins.subscales) {
      Json group = Json::object();
      group["linkId"] = SubscaleGroupLinkId(sub.name);
      group["code"] = Json::array(
          {internal::CodingJson(kCodeSystemUrl, SubscaleCode(ins.id, sub.name), sub.name)});
      group["text"] = sub.name;
      group["type"] = "group";
      group["required"] = true;
      group["repeats"] = false;
      std::vector<int> members = sub.items;
      std::sort(members.begin(), members.end());
      Json children = Json::array();
      for (int item : members) children.push_back(QuestionItem(ins, item, {}));
      group["item"] = std::move(children);
      items.push_back(std::move(group));
    }
  } else {
    for (int item = 1; item <= ins.item_count; ++item) {
      std::vector<std::string> subs;
      for (const analytics::Subscale& sub : ins.subscales) {
        if (std::find(sub.items.begin(), sub.items.end(), item) != sub.items.end()) {
          subs.push_back(sub.name);
        }
      }
      items.push_back(QuestionItem(ins, item, subs));
    }
  }
  q["item"] = std::move(items);
  return q;
}

}  // namespace

std::string QuestionnaireJson(const analytics::Instrument& instrument) {
  return internal::Dump(QuestionnaireObject(instrument));
}

std::string QuestionnaireBundleJson(const analytics::InstrumentRegistry& registry) {
  Json bundle = Json::object();
  bundle["resourceType"] = "Bundle";
  bundle["type"] = "searchset";
  std::vector<std::string> ids = registry.Ids();
  std::sort(ids.begin(), ids.end());
  bundle["total"] = ids.size();
  Json entries = Json::array();
  for (const std::string& id : ids) {
    const analytics::Instrument* ins = registry.Find(id);
    if (ins == nullptr) continue;
    Json entry = Json::object();
    entry["fullUrl"] = QuestionnaireUrl(id);
    entry["resource"] = QuestionnaireObject(*ins);
    entry["search"] = Json{{"mode", "match"}};
    entries.push_back(std::move(entry));
  }
  bundle["entry"] = std::move(entries);
  return internal::Dump(bundle);
}

std::string CodeSystemJson(const analytics::InstrumentRegistry& registry) {
  Json concepts = Json::array();
  std::vector<std::string> ids = registry.Ids();
  std::sort(ids.begin(), ids.end());
  std::string version_text = "alliance.codesystem.v1";
  for (const std::string& id : ids) {
    const analytics::Instrument* ins = registry.Find(id);
    if (ins == nullptr) continue;
    std::string title = InstrumentDisplay(registry, id);
    concepts.push_back(Concept(TotalCode(id), title + " total",
                               "Total score of " + title + " in its native units."));
    version_text += "|" + TotalCode(id);
    for (const analytics::Subscale& sub : ins->subscales) {
      concepts.push_back(Concept(SubscaleCode(id, sub.name), title + ": " + sub.name,
                                 "Score of the " + sub.name + " subscale of " + title +
                                     " (sum of its items after reverse scoring)."));
      version_text += "|" + SubscaleCode(id, sub.name);
    }
  }
  const std::pair<const char*, const char*> kinds[] = {
      {"rupture", "A rupture episode of the alliance opened."},
      {"repaired", "The score returned to at least its pre-rupture level: the episode closed."},
      {"unrepaired", "A rupture stayed unrepaired for the configured number of sessions."},
      {"disengagement", "The client stopped rating, or nobody rated during an open rupture."},
      {"reengaged", "Ratings resumed after a disengagement alert."},
  };
  for (const auto& [code, definition] : kinds) {
    concepts.push_back(Concept(code, "Alliance alert: " + std::string(code), definition));
    version_text += std::string("|") + code;
  }
  Json cs = Json::object();
  cs["resourceType"] = "CodeSystem";
  cs["id"] = "alliance";
  cs["url"] = kCodeSystemUrl;
  cs["version"] = analytics::Hash128Hex({version_text}).substr(0, 12);
  cs["name"] = "AllianceCodes";
  cs["title"] = "Alliance scores and alert kinds";
  cs["status"] = "active";
  cs["publisher"] = "Alliance";
  cs["description"] =
      "Codes for each instrument's total and subscale scores (Observation.code and "
      "Observation.component.code) and for the kinds of alliance alert (Flag.code).";
  cs["caseSensitive"] = true;
  cs["content"] = "complete";
  cs["count"] = concepts.size();
  cs["concept"] = std::move(concepts);
  return internal::Dump(cs);
}

}  // namespace alliance::fhir
