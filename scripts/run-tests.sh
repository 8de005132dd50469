#!/usr/bin/env bash
# Full test run (called by `make test`, which first installs system packages, .venv and the
# frontend build). Starts throwaway PostgreSQL + Redis, exports DATABASE_URL / REDIS_URL and runs:
#   1. ruff check .
#   2. backend pytest   (tests/, minus tests/e2e)   on PostgreSQL + Redis
#   3. frontend vitest  (if frontend/package.json exists)
#   4. e2e pytest       (tests/e2e; "no tests collected" (exit 5) counts as a pass)
# Every step runs even if an earlier one failed; the script exits non-zero if any failed.
# The services are always stopped on exit (unless HERON_KEEP_SERVICES=1).
#
# Knobs: VENV (default .venv), PYTEST_ARGS (extra args for both pytest runs),
#        HERON_FAIL_FAST=1 (stop after the first failing step),
#        HERON_STEP_TIMEOUT (seconds per step, default 1800),
#        HERON_KEEP_SERVICES=1 (leave PG/Redis running afterwards, for local iteration).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
STEP_TIMEOUT="${HERON_STEP_TIMEOUT:-1800}"
read -r -a EXTRA_PYTEST <<<"${PYTEST_ARGS:-}"

[[ -x "$PY" ]] || { echo "run-tests: $PY not found; run 'make venv' (or 'make test')" >&2; exit 1; }

SUMMARY=()
FAILED=0
ALL_START=$SECONDS

cleanup() {
    local rc=$?
    if [[ "${HERON_KEEP_SERVICES:-}" == 1 ]]; then
        echo "run-tests: HERON_KEEP_SERVICES=1, leaving PostgreSQL/Redis running (bash scripts/test-services.sh stop)" >&2
    else
        bash scripts/test-services.sh stop || true
    fi
    exit "$rc"
}
# Steps run in the background and we `wait` for them: bash runs a trap only once the foreground
# child has exited, whereas `wait` returns as soon as a signal arrives. On Ctrl-C / TERM the
# running step is terminated (timeout(1) forwards the TERM to it), then the EXIT trap stops services.
CHILD=""
on_signal() {
    echo "run-tests: interrupted" >&2
    if [[ -n "$CHILD" ]]; then
        kill -TERM "$CHILD" 2>/dev/null
        wait "$CHILD" 2>/dev/null
    fi
    exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

# record NAME STATUS DETAIL
record() {
    SUMMARY+=("$(printf '%-4s  %-16s %s' "$2" "$1" "$3")")
    [[ "$2" == FAIL ]] && FAILED=1
    return 0
}

# step NAME ALLOW_EXIT_5(0|1) CMD...
step() {
    local name="$1" allow5="$2"; shift 2
    if [[ $FAILED -eq 1 && "${HERON_FAIL_FAST:-}" == 1 ]]; then
        record "$name" SKIP "(fail-fast: an earlier step failed)"
        return 0
    fi
    echo
    echo "==================== $name: $* ===================="
    local t0=$SECONDS rc=0
    timeout -k 30 "$STEP_TIMEOUT" "$@" </dev/null &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=""
    local dt="$((SECONDS - t0))s"
    if [[ $rc -eq 0 ]]; then
        record "$name" PASS "($dt)"
    elif [[ $rc -eq 5 && $allow5 -eq 1 ]]; then
        record "$name" PASS "(no tests collected, $dt)"
    elif [[ $rc -eq 124 || $rc -eq 137 ]]; then
        record "$name" FAIL "(timed out after ${STEP_TIMEOUT}s)"
    elif [[ $rc -eq 5 ]]; then
        record "$name" FAIL "(exit 5: no tests collected, $dt)"
    else
        record "$name" FAIL "(exit $rc, $dt)"
    fi
}

echo "==================== services ===================="
if ! bash scripts/test-services.sh start; then
    record services FAIL "(could not start PostgreSQL/Redis)"
    printf '%s\n' "" "==================== summary ====================" "${SUMMARY[@]}"
    exit 1
fi
eval "$(bash scripts/test-services.sh env)"
export DATABASE_URL REDIS_URL
echo "DATABASE_URL=$DATABASE_URL"
echo "REDIS_URL=$REDIS_URL"
mkdir -p test-results

step "ruff" 0 "$VENV/bin/ruff" check .
step "backend pytest" 0 "$PY" -m pytest tests --ignore=tests/e2e -p no:cacheprovider \
    --junitxml=test-results/backend.xml "${EXTRA_PYTEST[@]}"
if [[ -f frontend/package.json ]]; then
    step "frontend vitest" 0 env -C frontend npm test
else
    record "frontend vitest" SKIP "(no frontend/package.json)"
fi
if [[ -d tests/e2e ]]; then
    step "e2e pytest" 1 "$PY" -m pytest tests/e2e -p no:cacheprovider \
        --junitxml=test-results/e2e.xml "${EXTRA_PYTEST[@]}"
else
    record "e2e pytest" SKIP "(no tests/e2e directory)"
fi

echo
echo "==================== summary ($((SECONDS - ALL_START))s) ===================="
printf '%s\n' "${SUMMARY[@]}"
if [[ $FAILED -ne 0 ]]; then
    echo "RESULT: FAILED"
    exit 1
fi
echo "RESULT: OK"
exit 0
