#!/usr/bin/env bash
# `npm test`: install what is missing, type-check everything, run the unit tests, then the integration tests against
# the real platform (started once, on ephemeral ports, with throw-away data). Closes with each phase's time and
# "N passed, N failed, N skipped".
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

phases=()
phase_started=$SECONDS
end_phase() {
  phases+=("$(printf '%-44s %4d s' "$1" $((SECONDS - phase_started)))")
  phase_started=$SECONDS
}

bash scripts/prepare.sh || exit 1
end_phase "set-up (npm install, runtime, tsc --build)"
echo "[test] type-checking the tests (the code was checked by tsc --build)…"
npx --no-install tsc -p tsconfig.test.json || exit 1
end_phase "type-check of the tests"

summary=$(mktemp)
export MERCATO_TEST_SUMMARY=$summary
status=0
echo "[test] unit tests"
npx --no-install jest --selectProjects unit "$@" || status=1
end_phase "unit tests"
echo "[test] integration tests (real Redis, FerretDB, Keycloak, Dapr, nginx; the API fuzzed)"
npx --no-install jest --selectProjects integration --runInBand "$@" || status=1
end_phase "integration tests (platform start included)"

read -r passed failed skipped < <(awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}' "$summary")
rm -f "$summary"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi # a run that crashed before counting still fails
echo
echo "[test] time per phase"
for line in "${phases[@]}"; do echo "  $line"; done
printf '  %-44s %4d s\n' "total" "$SECONDS"
echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
