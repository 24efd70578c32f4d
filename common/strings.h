// Bridges std::string_view and absl::string_view. Debian 12's Abseil is built with its own
// string_view type (ABSL_OPTION_USE_STD_STRING_VIEW 0), so absl::StrCat and friends do not
// accept std::string_view directly.
#ifndef ALLIANCE_COMMON_STRINGS_H_
#define ALLIANCE_COMMON_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace alliance {

inline absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view Std(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace alliance

#endif  // ALLIANCE_COMMON_STRINGS_H_
