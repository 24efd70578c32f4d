// The usage check of alliancectl's flags (see flag_check.h for why it exists).
#include "tools/alliancectl/flag_check.h"

#include <string>
#include <string_view>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace alliance::ctl {
namespace {

bool AsksForHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return false;
    if (arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpfull") return true;
  }
  return false;
}

// Flags absl's parser handles itself (usage and flag files); they are not always found by
// FindCommandLineFlag, so they pass unchecked.
bool IsAbslBuiltIn(std::string_view name) {
  for (std::string_view builtin :
       {"help", "helpfull", "helpshort", "helppackage", "helpon", "helpmatch", "version",
        "only_check_args", "flagfile", "fromenv", "tryfromenv", "undefok"}) {
    if (name == builtin) return true;
  }
  return false;
}

}  // namespace

absl::Status CheckCommandLine(int argc, char** argv) {
  if (AsksForHelp(argc, argv)) return absl::OkStatus();
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;  // positional ("-" alone too)
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const size_t eq = arg.find('=');
    const std::string name(arg.substr(0, eq));
    const bool has_value = eq != std::string_view::npos;
    const std::string value = has_value ? std::string(arg.substr(eq + 1)) : "";
    if (IsAbslBuiltIn(name)) {
      // Their values come in the same argument or the next one; absl reads both forms.
      continue;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      // --nofoo sets the bool flag foo to false; it takes no value.
      absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>()) {
        if (has_value)
          return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
        continue;
      }
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    std::string text = value;
    if (!has_value) {
      if (flag->IsOfType<bool>()) continue;
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
      text = argv[++i];
    }
    std::string error;
    if (!flag->ParseFrom(text, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, "=", text, ": ", error.empty() ? "illegal value" : error));
    }
  }
  return absl::OkStatus();
}

}  // namespace alliance::ctl
