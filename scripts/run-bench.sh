#!/usr/bin/env bash
# Benchmarks against throwaway PostgreSQL + Redis (called by `make bench`).
# Runs bench/run_all.py with DATABASE_URL / REDIS_URL exported; services are stopped on exit
# (unless HERON_KEEP_SERVICES=1). Extra arguments are passed to bench/run_all.py.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-.venv}"

[[ -f bench/run_all.py ]] || { echo "run-bench: bench/run_all.py does not exist yet" >&2; exit 1; }

cleanup() {
    local rc=$?
    [[ "${HERON_KEEP_SERVICES:-}" == 1 ]] || bash scripts/test-services.sh stop || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash scripts/test-services.sh start || exit 1
eval "$(bash scripts/test-services.sh env)"
export DATABASE_URL REDIS_URL
"$VENV/bin/python" bench/run_all.py "$@"
