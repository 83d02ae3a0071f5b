#!/usr/bin/env bash
# What `npm start`, `npm test` and `npm run bench` need first, so each works on a fresh clone: npm dependencies (when
# missing or older than the lock), the runtime pieces (scripts/install-runtime.sh; cached after the first run), a build.
#
# Why `npm install` and not `npm ci`: these machines set `omit-lockfile-registry-resolved` (lock files name no registry
# host), and with it npm does not record other platforms' optional binaries in the lock, so `npm ci` refuses every
# fresh clone as "out of sync". Every version in package.json is pinned exactly, so `npm install` against the committed
# lock installs the same tree.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] installing npm dependencies…"
  npm install --no-audit --no-fund --loglevel=error
fi
bash scripts/install-runtime.sh
echo "[setup] building (tsc --build)…"
npx --no-install tsc --build
