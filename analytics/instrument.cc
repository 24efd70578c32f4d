// Parsing and validation of instrument definitions (instrument.h). Every check that can fail
// names the source file and the field, so a bad operator definition is refused at start-up
// with a message that says where to look.
#include "analytics/instrument.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "analytics/json_fields.h"

namespace alliance::analytics {
namespace {

using internal::FieldError;
using internal::ObjectReader;
using json = nlohmann::json;

constexpr int kMaxItems = 500;
// Tolerance for "is a whole number of steps", in units of steps.
constexpr double kStepTolerance = 1e-6;

std::string Fmt(double v) {
  // Shortest form that reads back: enough for messages like "13 is outside 1..12".
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

absl::StatusOr<Rater> ParseRater(const json& v, std::string_view source, const std::string& path) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "client") return Rater::kClient;
    if (s == "therapist") return Rater::kTherapist;
    if (s == "observer") return Rater::kObserver;
  }
  return FieldError(source, path, "must be \"client\", \"therapist\" or \"observer\"");
}

// Reads a list of distinct 1-based item numbers.
absl::StatusOr<std::vector<int>> ParseItemList(const json& v, int item_count,
                                               std::string_view source, const std::string& path,
                                               bool allow_empty) {
  if (!v.is_array()) return FieldError(source, path, "must be an array of item numbers");
  if (v.empty() && !allow_empty) return FieldError(source, path, "must not be empty");
  std::vector<int> items;
  std::set<int> seen;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string p = absl::StrCat(path, "[", i, "]");
    if (!v[i].is_number_integer()) return FieldError(source, p, "must be an integer");
    int64_t item = v[i].get<int64_t>();
    if (item < 1 || item > item_count) {
      return FieldError(source, p, absl::StrCat("item ", item, " is outside 1..", item_count));
    }
    if (!seen.insert(static_cast<int>(item)).second) {
      return FieldError(source, p, absl::StrCat("item ", item, " is listed twice"));
    }
    items.push_back(static_cast<int>(item));
  }
  return items;
}

absl::StatusOr<Cutoff> ParseCutoff(const json& v, std::string_view source, const std::string& path,
                                   double lo, double hi) {
  if (!v.is_object()) return FieldError(source, path, "must be an object {value, direction}");
  ObjectReader r(v, source, path);
  Cutoff cutoff;
  if (absl::Status s = r.ReadNumber("value", true, &cutoff.value); !s.ok()) return s;
  if (cutoff.value < lo || cutoff.value > hi) {
    return FieldError(
        source, r.PathOf("value"),
        absl::StrCat(Fmt(cutoff.value), " is outside the score range ", Fmt(lo), "..", Fmt(hi)));
  }
  std::string direction = "below";
  if (absl::Status s = r.ReadString("direction", false, &direction); !s.ok()) return s;
  if (direction == "below") {
    cutoff.direction = CutoffDirection::kBelow;
  } else if (direction == "at_or_below") {
    cutoff.direction = CutoffDirection::kAtOrBelow;
  } else {
    return FieldError(source, r.PathOf("direction"), "must be \"below\" or \"at_or_below\"");
  }
  if (absl::Status s = r.RejectUnknown(); !s.ok()) return s;
  return cutoff;
}

bool IsIdentifier(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

bool Cutoff::IsConcern(double score) const {
  return direction == CutoffDirection::kBelow ? score < value : score <= value;
}

bool Instrument::AllowsRater(Rater rater) const {
  return std::find(raters.begin(), raters.end(), rater) != raters.end();
}

std::string_view RaterName(Rater rater) {
  switch (rater) {
    case Rater::kClient:
      return "client";
    case Rater::kTherapist:
      return "therapist";
    case Rater::kObserver:
      return "observer";
    case Rater::kUnspecified:
      break;
  }
  return "unspecified";
}

absl::StatusOr<Instrument> ParseInstrumentJson(std::string_view text, std::string_view source) {
  absl::StatusOr<json> doc = internal::ParseJsonDocument(text, source);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) return FieldError(source, "(document)", "must be a JSON object");
  ObjectReader r(*doc, source, "");
  Instrument ins;

  if (absl::Status s = r.ReadString("id", true, &ins.id); !s.ok()) return s;
  if (!IsIdentifier(ins.id)) {
    return FieldError(source, "id", "must be 1-64 characters of a-z, 0-9, '-', '_', '.'");
  }
  if (absl::Status s = r.ReadString("name", true, &ins.name); !s.ok()) return s;
  if (absl::Status s = r.ReadString("references", false, &ins.references); !s.ok()) return s;

  if (!r.Has("raters")) return FieldError(source, "raters", "is required");
  const json& raters = r.Raw("raters");
  if (!raters.is_array() || raters.empty()) {
    return FieldError(source, "raters", "must be a non-empty array");
  }
  for (size_t i = 0; i < raters.size(); ++i) {
    std::string p = absl::StrCat("raters[", i, "]");
    absl::StatusOr<Rater> rater = ParseRater(raters[i], source, p);
    if (!rater.ok()) return rater.status();
    if (ins.AllowsRater(*rater)) return FieldError(source, p, "is listed twice");
    ins.raters.push_back(*rater);
  }

  if (absl::Status s = r.ReadInt("item_count", true, &ins.item_count); !s.ok()) return s;
  if (ins.item_count < 1 || ins.item_count > kMaxItems) {
    return FieldError(source, "item_count", absl::StrCat("must be 1..", kMaxItems));
  }
  if (absl::Status s = r.ReadNumber("item_min", true, &ins.item_min); !s.ok()) return s;
  if (absl::Status s = r.ReadNumber("item_max", true, &ins.item_max); !s.ok()) return s;
  if (ins.item_max <= ins.item_min) {
    return FieldError(source, "item_max",
                      absl::StrCat(Fmt(ins.item_max), " must exceed item_min ", Fmt(ins.item_min)));
  }
  if (absl::Status s = r.ReadNumber("step", true, &ins.step); !s.ok()) return s;
  if (ins.step <= 0) return FieldError(source, "step", "must be positive");
  double steps = (ins.item_max - ins.item_min) / ins.step;
  if (std::fabs(steps - std::round(steps)) > kStepTolerance || steps > 1e6) {
    return FieldError(source, "step",
                      absl::StrCat(Fmt(ins.step), " does not divide the range ", Fmt(ins.item_min),
                                   "..", Fmt(ins.item_max)));
  }

  if (r.Has("reverse_items")) {
    absl::StatusOr<std::vector<int>> items =
        ParseItemList(r.Raw("reverse_items"), ins.item_count, source, "reverse_items", true);
    if (!items.ok()) return items.status();
    ins.reverse_items = *std::move(items);
  }

  if (r.Has("subscales")) {
    const json& subs = r.Raw("subscales");
    if (!subs.is_array()) return FieldError(source, "subscales", "must be an array");
    std::set<std::string> names;
    for (size_t i = 0; i < subs.size(); ++i) {
      std::string path = absl::StrCat("subscales[", i, "]");
      if (!subs[i].is_object()) return FieldError(source, path, "must be an object");
      ObjectReader sr(subs[i], source, path);
      Subscale sub;
      if (absl::Status s = sr.ReadString("name", true, &sub.name); !s.ok()) return s;
      if (!IsIdentifier(sub.name)) {
        return FieldError(source, sr.PathOf("name"),
                          "must be 1-64 characters of a-z, 0-9, '-', '_', '.'");
      }
      if (!names.insert(sub.name).second) {
        return FieldError(source, sr.PathOf("name"),
                          absl::StrCat("subscale \"", sub.name, "\" is defined twice"));
      }
      if (!sr.Has("items")) return FieldError(source, sr.PathOf("items"), "is required");
      absl::StatusOr<std::vector<int>> items =
          ParseItemList(sr.Raw("items"), ins.item_count, source, sr.PathOf("items"), false);
      if (!items.ok()) return items.status();
      sub.items = *std::move(items);
      sub.factor = sub.name;
      if (absl::Status s = sr.ReadString("factor", false, &sub.factor); !s.ok()) return s;
      if (sr.Has("cutoff")) {
        double n = static_cast<double>(sub.items.size());
        absl::StatusOr<Cutoff> c = ParseCutoff(sr.Raw("cutoff"), source, sr.PathOf("cutoff"),
                                               ins.item_min * n, ins.item_max * n);
        if (!c.ok()) return c.status();
        sub.cutoff = *c;
      }
      if (absl::Status s = sr.RejectUnknown(); !s.ok()) return s;
      ins.subscales.push_back(std::move(sub));
    }
  }

  if (r.Has("total_cutoff")) {
    absl::StatusOr<Cutoff> c =
        ParseCutoff(r.Raw("total_cutoff"), source, "total_cutoff", ins.TotalMin(), ins.TotalMax());
    if (!c.ok()) return c.status();
    ins.total_cutoff = *c;
  }

  if (absl::Status s = r.ReadNumber("population_sd", true, &ins.population_sd); !s.ok()) return s;
  if (ins.population_sd <= 0 || ins.population_sd > ins.TotalMax() - ins.TotalMin()) {
    return FieldError(
        source, "population_sd",
        absl::StrCat(Fmt(ins.population_sd), " must be positive and at most the total range ",
                     Fmt(ins.TotalMax() - ins.TotalMin())));
  }
  if (absl::Status s = r.ReadNumber("reliability", true, &ins.reliability); !s.ok()) return s;
  if (!(ins.reliability > 0 && ins.reliability < 1)) {
    return FieldError(source, "reliability",
                      absl::StrCat(Fmt(ins.reliability), " must be strictly between 0 and 1"));
  }
  if (r.Has("item_check_below")) {
    double v = 0;
    if (absl::Status s = r.ReadNumber("item_check_below", true, &v); !s.ok()) return s;
    if (v < ins.item_min || v > ins.item_max) {
      return FieldError(source, "item_check_below",
                        absl::StrCat(Fmt(v), " is outside the item range ", Fmt(ins.item_min), "..",
                                     Fmt(ins.item_max)));
    }
    ins.item_check_below = v;
  }

  if (r.Has("check")) {
    static const std::set<std::string, std::less<>> kCheckable = {
        "item_min",     "item_max",      "step",        "reverse_items",   "subscales",
        "total_cutoff", "population_sd", "reliability", "item_check_below"};
    const json& check = r.Raw("check");
    if (!check.is_array()) return FieldError(source, "check", "must be an array of field names");
    for (size_t i = 0; i < check.size(); ++i) {
      std::string p = absl::StrCat("check[", i, "]");
      if (!check[i].is_string() || !kCheckable.contains(check[i].get<std::string>())) {
        return FieldError(source, p, "must name a numeric field of this definition");
      }
      ins.check_fields.push_back(check[i].get<std::string>());
    }
  }

  if (absl::Status s = r.RejectUnknown(); !s.ok()) return s;
  return ins;
}

}  // namespace alliance::analytics
