# shellcheck shell=bash disable=SC2154  # $root: the repository, set by the caller
# Shared by scripts/build-image.sh and scripts/test-image.sh (sourced, not run): the buildah
# command line (vfs storage, which needs no kernel overlay support, and chroot isolation, which
# needs no user namespaces: both work as root in a plain VM or chroot) and the image's name.
# Usage: source scripts/lib/image.sh; bh images; image_ref

# Every buildah call goes through here so that all of them see the same storage; none of them
# (image builds aside, which have their own limit) takes more than a few seconds normally.
bh() { timeout 900 buildah --storage-driver vfs "$@"; }

# The project's VERSION (CMakeLists.txt `project(alliance VERSION x.y.z)`).
project_version() {
  sed -n 's/^project(alliance VERSION \([0-9][0-9.]*\).*/\1/p' "$root/CMakeLists.txt"
}

# The source revision (--version of the binaries, the REVISION build argument).
source_revision() {
  git -C "$root" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown
}

# The image the build tags and the test runs: alliance:<VERSION>-g<commit>, e.g.
# alliance:0.1.0-g1a2b3c4d5e6f, with -dirty when built from a working tree with uncommitted
# changes to tracked files (not with `head`: scripts/build-image.sh --head builds the commit), or
# alliance:<VERSION>-unknown outside git. The build also tags alliance:<VERSION>, the released
# tag scheme (the prod overlay's newTag; tests/deploy holds the two together).
image_ref() {
  local sha dirty=""
  if sha=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null); then
    [[ ${1:-} == head || -z $(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null) ]] ||
      dirty=-dirty
    echo "alliance:$(project_version)-g$sha$dirty"
  else
    echo "alliance:$(project_version)-unknown"
  fi
}

# SCRIPT [ARGS...]: where / is not a mount point (a chroot, such as a fresh CI root), re-runs
# SCRIPT with ARGS in a mount namespace of its own whose root is a bind mount of this root, and
# exits with its status; elsewhere returns at once. buildah (layer storage, chroot isolation),
# `unshare --propagation` and `ip netns` all make / private or slave, which only a mount point
# can be. Paths, environment and working folder stay as they are.
run_where_root_is_a_mount() {
  mountpoint -q / && return 0
  if [[ -n ${ALLIANCE_ROOT_REBOUND:-} ]]; then
    echo "$1: / is still not a mount point after rebinding it" >&2
    exit 1
  fi
  local new_root rc=0
  new_root=$(mktemp -d /tmp/alliance-root-XXXXXX)
  # shellcheck disable=SC2016 # the inner script's variables are its own
  ALLIANCE_ROOT_REBOUND=1 unshare --mount --propagation unchanged bash -c '
    mount --rbind / "$1" && mount --make-rprivate "$1" && exec chroot "$1" env -C "$2" "${@:3}"
  ' rebind "$new_root" "$PWD" "$(readlink -f "$1")" "${@:2}" || rc=$?
  # Mounts the namespace made can only have shown outside it through a shared mount; none stay.
  findmnt -rn -o TARGET | awk -v d="$new_root" 'index($0, d) == 1' | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rmdir "$new_root" 2>/dev/null || true
  exit "$rc"
}
