#!/usr/bin/env bash
# `npm run bench`: benchmarks against the real platform, each printing ratios against a baseline measured in the same run.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/prepare.sh
node packages/devstack/dist/bench/sidecar-overhead.js
