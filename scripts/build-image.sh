#!/usr/bin/env bash
# Builds the container image (deploy/Dockerfile, unchanged) without a Docker engine or a
# registry: buildah (installed when missing) builds it as root with chroot isolation and vfs
# storage, FROM local base images made from a Debian 12 root (debootstrap, cached). The base
# images get this machine's apt sources and settings, and the build base its extra CA
# certificates (a TLS-inspecting egress needs them for npm), read from the machine at build time
# and never written into the repository. They are tagged with the names the Dockerfile uses
# (debian:bookworm, debian:bookworm-slim), so the same Dockerfile builds anywhere with Docker.
# Tags alliance:<VERSION>-g<commit> (scripts/lib/image.sh) and alliance:<VERSION>; prints the
# image size and the build time.
#
# Usage: scripts/build-image.sh [--head | --bases-only]     (as root)
#   (no option)    build the working tree, as `docker build .` would (deploy/Dockerfile.dockerignore
#                  filters the context)
#   --head         build the committed HEAD only (a `git archive` of it), e.g. on a shared
#                  checkout whose uncommitted changes are not meant for the image
#   --bases-only   only make the base images (when missing)
# Environment: ALLIANCE_IMAGE_CACHE (default /var/cache/alliance-image: the Debian root's tar),
#   ALLIANCE_IMAGE_TIMEOUT (seconds for the image build, default 3600), BUILDAH_LAYERS=true
#   (buildah's own: keep every instruction as a cached layer, so that the package step is reused
#   across source changes; off by default, as vfs storage copies the whole build root per layer).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/image.sh
source "$root/scripts/lib/image.sh"
cache=${ALLIANCE_IMAGE_CACHE:-/var/cache/alliance-image}
build_timeout=${ALLIANCE_IMAGE_TIMEOUT:-3600}
bases_only=0 head=0
case ${1:-} in
  --bases-only) bases_only=1 ;;
  --head) head=1 ;;
  "") ;;
  *)
    echo "usage: scripts/build-image.sh [--head | --bases-only]" >&2
    exit 2
    ;;
esac

say() { echo "build-image: $*" >&2; }
die() {
  say "$*"
  exit 1
}
((EUID == 0)) || die "run as root (buildah's chroot isolation, vfs storage and debootstrap need it)"
run_where_root_is_a_mount "$0" "$@"

# --- Tools ---
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -qq
  timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- The Debian 12 root (debootstrap minbase), cached as a tar ---
rootfs=$cache/bookworm-minbase.tar
mkdir -p "$cache"
exec 9>"$cache/.lock"
timeout 1800 flock 9 || die "another build holds $cache/.lock"
if [[ ! -s $rootfs ]]; then
  # The machine's Debian mirror: the first bookworm entry of its apt sources (one-line or deb822).
  mirror=$({
    sed -E 's/\[[^]]*\]//' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" && $3 == "bookworm" { print $2 }'
    awk '/^URIs:/ { u = $2 } /^Suites:/ { s = $0 " " }
         /^[ \t]*$/ { if (s ~ / bookworm / && u) print u; u = s = "" }
         END { if (s ~ / bookworm / && u) print u }' /etc/apt/sources.list.d/*.sources 2>/dev/null
  } | head -n1)
  [[ -n $mirror ]] || die "no bookworm mirror in this machine's /etc/apt/sources.list{,.d}"
  say "making the Debian 12 root with debootstrap from $mirror (once; a few minutes)"
  t0=$SECONDS
  tmp=$(mktemp -d -p "$cache" root.XXXXXX)
  # debootstrap mounts proc and sys in the root while it runs: a private mount namespace makes
  # sure none of them outlives it.
  if ! timeout 1200 unshare --mount --propagation private \
    debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$cache/debootstrap.log" 2>&1; then
    tail -n 20 "$cache/debootstrap.log" >&2
    rm -rf --one-file-system "$tmp"
    die "debootstrap failed (log: $cache/debootstrap.log)"
  fi
  chroot "$tmp" apt-get clean
  # Each image gets the machine's sources (below); no lists, as in Debian's own images.
  rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/etc/apt/sources.list
  tar --numeric-owner --xattrs --one-file-system -C "$tmp" -cf "$rootfs.tmp" .
  mv "$rootfs.tmp" "$rootfs"
  rm -rf --one-file-system "$tmp"
  say "Debian root made in $((SECONDS - t0)) s: $rootfs ($(du -h "$rootfs" | cut -f1))"
fi

# --- The base images debian:bookworm-slim and debian:bookworm (localhost/...) ---
# NAME [extra CA certificates]: the root plus this machine's apt configuration.
make_base() {
  local name=$1 with_ca=$2 ctr mnt f
  ctr=$(bh from scratch)
  mnt=$(bh mount "$ctr")
  tar --numeric-owner --xattrs -xpf "$rootfs" -C "$mnt"
  # apt as on this machine: its sources and the settings needed to reach its mirror.
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
    $(grep -lEs 'Proxy|Check-Valid-Until|Check-Date' /etc/apt/apt.conf /etc/apt/apt.conf.d/*); do
    [[ -f $f ]] && install -D -m 0644 "$f" "$mnt$f"
  done
  if [[ $name == *-slim ]]; then
    # As Debian's own slim images: no documentation, manual pages or translations, now or from
    # packages installed later (dpkg's path filters); the copyright files stay.
    cat >"$mnt/etc/dpkg/dpkg.cfg.d/slim" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
DPKG
    find "$mnt/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$mnt/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$mnt"/usr/share/{groff,info,linda,lintian/overrides,locale,man}/*
  fi
  if ((with_ca)); then
    # Picked up by update-ca-certificates when the build stage installs ca-certificates; Node.js
    # (npm) reads the bundle through NODE_EXTRA_CA_CERTS.
    mkdir -p "$mnt/usr/local/share/ca-certificates"
    for f in /usr/local/share/ca-certificates/*.crt; do
      [[ -f $f ]] && install -m 0644 "$f" "$mnt/usr/local/share/ca-certificates/"
    done
    bh config --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt "$ctr"
  fi
  bh umount "$ctr" >/dev/null
  bh config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd bash --os linux --arch "$(dpkg --print-architecture)" "$ctr"
  bh commit -q --rm "$ctr" "localhost/$name" >/dev/null
  say "base image $name made (from $rootfs and this machine's apt configuration)"
}
bh inspect --type image debian:bookworm-slim >/dev/null 2>&1 || make_base debian:bookworm-slim 0
bh inspect --type image debian:bookworm >/dev/null 2>&1 || make_base debian:bookworm 1
exec 9>&-
((bases_only)) && exit 0

# --- The image ---
context=$root
if ((head)); then
  ref=$(image_ref head)
  revision=$(git -C "$root" rev-parse --short=12 HEAD)
  context=$(mktemp -d /tmp/alliance-image-context-XXXXXX)
  trap 'rm -rf "$context"' EXIT
  git -C "$root" archive HEAD | tar -x -C "$context"
else
  ref=$(image_ref)
  revision=$(source_revision)
fi
release_ref=alliance:$(project_version)
say "building $ref (revision $revision) from deploy/Dockerfile"
t0=$SECONDS
# --pull=never: the base images are the local ones, no registry is asked. The context filter is
# the Dockerfile's own (deploy/Dockerfile.dockerignore), named explicitly.
timeout -k 30 "$build_timeout" buildah --storage-driver vfs bud --isolation chroot --pull=never \
  --network host -f "$context/deploy/Dockerfile" \
  --ignorefile "$context/deploy/Dockerfile.dockerignore" \
  --build-arg REVISION="$revision" -t "$ref" -t "$release_ref" "$context" ||
  die "image build failed or timed out after $((SECONDS - t0)) s"
build_s=$((SECONDS - t0))
size=$(bh images --format '{{.Size}}' "$ref" | head -n1)
say "built $ref (also $release_ref) in ${build_s} s; image size $size ($(nproc) cores)"
echo "$ref"
