#!/usr/bin/env bash
# `npm run bench [-- name…]`: benchmarks against the real platform, each printing ratios against the hello-world
# ceiling measured in the same run (`npm run bench -- --list` names them). Load comes from wrk (Debian's package).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if ! command -v wrk >/dev/null 2>&1; then
  echo "[bench] installing wrk (apt-get)…"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  if ! "${sudo_cmd[@]}" apt-get install -y -qq wrk >/dev/null 2>&1; then
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq wrk
  fi
fi
bash scripts/prepare.sh
exec node packages/devstack/dist/bench/main.js "$@"
