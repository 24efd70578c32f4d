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

# DIR: makes DIR a private mount point (a bind mount of itself), so that whatever a mount
# namespace made with `unshare --mount --propagation unchanged` mounts below it stays in that
# namespace. `unshare --propagation private` would do this for the whole tree, but it fails where
# / is not a mount point (inside a chroot, as on a fresh CI root), so the scripts use this
# instead, everywhere. Undo with unmount_private_dir.
make_private_dir() {
  mount --bind "$1" "$1"
  mount --make-private "$1"
}

# DIR: unmounts DIR and everything below it (lazily when busy); quiet when nothing is mounted.
unmount_private_dir() {
  local m
  for m in $(findmnt -rn -o TARGET | awk -v d="$1" '$0 == d || index($0, d "/") == 1' | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}
