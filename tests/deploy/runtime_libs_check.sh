#!/usr/bin/env bash
# Proves the Dockerfile's runtime stage installs enough: every shared library that `ldd` of each
# given binary resolves must belong (dpkg -S) to a package in the runtime stage's apt-get install
# list or in that list's dependency closure (apt-cache depends --recurse), or to the slim base
# image's essential set. Fails naming the library and its package otherwise.
# Usage: runtime_libs_check.sh DOCKERFILE BINARY...
set -euo pipefail
dockerfile=${1:?Dockerfile}
shift
(($# > 0)) || { echo "runtime-libs: no binary given" >&2; exit 1; }

# Packages of the last stage's `apt-get install` (continuation lines joined, options and
# version pins dropped).
runtime_packages=$(awk '/^FROM /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$dockerfile" |
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta' |
  grep -E 'apt-get install' |
  sed -e 's/.*apt-get install//' -e 's/&&.*//' |
  tr ' ' '\n' | grep -v -E '^(-|$)' | sed 's/=.*//' | sort -u)
[[ -n $runtime_packages ]] || { echo "runtime-libs: no apt-get install in the last stage" >&2; exit 1; }

# debian:bookworm-slim ships the Essential packages (libc6, libgcc-s1 via their dependants...).
base_packages=$(dpkg-query -W -f='${Package} ${Essential}\n' | awk '$2=="yes"{print $1}')
# shellcheck disable=SC2086
# Every package apt reaches from them (the unindented lines of the recursive listing).
closure=$( (echo "$runtime_packages"; echo "$base_packages";
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances $runtime_packages $base_packages 2>/dev/null |
    grep -v -E '^ |^<') | sed 's/:.*//' | sort -u)

# Library path -> owning package, with one dpkg -S call per binary (merged /usr: a library may
# be registered under /lib or /usr/lib).
owners_of() {
  local lib candidates=()
  for lib in "$@"; do
    for p in "$lib" "$(realpath "$lib")"; do
      candidates+=("$p" "/usr${p}" "${p#/usr}")
    done
  done
  { dpkg -S "${candidates[@]}" 2>/dev/null || true; } | sed 's/^\([^:]*\)\(:[^:]*\)\?: /\1 /'
}

failed=0
for bin in "$@"; do
  [[ -x $bin ]] || { echo "runtime-libs: $bin is missing (not built?)" >&2; failed=1; continue; }
  if ldd "$bin" | grep -q 'not found'; then
    echo "runtime-libs: $bin has unresolved libraries here:" >&2
    ldd "$bin" | grep 'not found' >&2
    failed=1
  fi
  mapfile -t libs < <(ldd "$bin" | awk '/=> \//{print $3} /^\s*\/.*ld-linux/{print $1}')
  owners=$(owners_of "${libs[@]}")
  count=0
  for lib in "${libs[@]}"; do
    real=$(realpath "$lib")
    pkg=$(awk -v a="$lib" -v b="$real" -v c="/usr$lib" -v d="/usr$real" -v e="${lib#/usr}" \
      -v f="${real#/usr}" '$2==a||$2==b||$2==c||$2==d||$2==e||$2==f{print $1; exit}' <<<"$owners")
    if [[ -z $pkg ]]; then
      echo "runtime-libs: $(basename "$bin"): no package owns $lib" >&2
      failed=1
    elif ! grep -qx "$pkg" <<<"$closure"; then
      echo "runtime-libs: $(basename "$bin") needs $lib from $pkg, which the runtime stage does not install" >&2
      failed=1
    fi
    count=$((count + 1))
  done
  echo "runtime-libs: $(basename "$bin"): $count libraries checked"
done
((failed == 0)) && echo "runtime-libs: runtime stage packages are sufficient"
exit $failed
