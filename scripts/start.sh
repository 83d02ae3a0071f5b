#!/usr/bin/env bash
# `npm start`: install whatever is missing (npm dependencies, Dapr, FerretDB, Keycloak, Redis, nginx), build, and run
# the whole platform in the foreground. Ctrl-C stops every process it started.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# A data folder holds one platform's Redis, FerretDB and scheduler files: say so before installing or starting anything.
data_dir=${MERCATO_DATA_DIR:-$root/.data/dev}
owner=$(cat "$data_dir/mercato.pid" 2>/dev/null || true)
if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
  echo "[mercato] $data_dir is in use by another running Mercato (pid $owner); stop it first, or give this one its own folder: MERCATO_DATA_DIR=<folder> npm start" >&2
  exit 1
fi
bash scripts/prepare.sh
exec node packages/devstack/dist/cli.js
