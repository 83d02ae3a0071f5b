#!/usr/bin/env bash
# `npm start`: install whatever is missing (npm dependencies, Dapr, FerretDB, Keycloak, Redis, nginx), build, and run
# the whole platform in the foreground. Ctrl-C stops every process it started.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/prepare.sh
exec node packages/devstack/dist/cli.js
