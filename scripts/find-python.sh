#!/usr/bin/env bash
# Pick the Python interpreter used to build .venv.
#
#   scripts/find-python.sh            -> prints the chosen interpreter path
#   scripts/find-python.sh --check P  -> exits non-zero with a clear message unless P is Python >= 3.12
#
# Order: `pyenv which python` (honours .python-version = 3.13.0), the pyenv 3.13.0 install,
# python3.13, python3.12, python3. The first candidate that is >= 3.12 wins; if none is,
# the first one that exists is printed so that --check can report what was found.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MIN_MAJOR=3
MIN_MINOR=12

version_of() { "$1" -c 'import platform; print(platform.python_version())' 2>/dev/null; }
is_ok() { "$1" -c "import sys; sys.exit(0 if sys.version_info >= ($MIN_MAJOR, $MIN_MINOR) else 1)" >/dev/null 2>&1; }

if [[ "${1:-}" == "--check" ]]; then
    py="${2:-}"
    hint="Install 3.13 (pyenv install 3.13.0) or set PYTHON=/path/to/python3.13"
    if [[ -z "$py" ]] || ! command -v "$py" >/dev/null 2>&1; then
        echo "Heron needs Python ≥ $MIN_MAJOR.$MIN_MINOR (no Python interpreter found${py:+ at '$py'}). $hint" >&2
        exit 1
    fi
    if ! is_ok "$py"; then
        echo "Heron needs Python ≥ $MIN_MAJOR.$MIN_MINOR (found $(version_of "$py" || echo unknown) at $(command -v "$py")). $hint" >&2
        exit 1
    fi
    exit 0
fi

candidates=()
if command -v pyenv >/dev/null 2>&1; then
    p="$(cd "$ROOT" && pyenv which python 2>/dev/null)" && candidates+=("$p")
fi
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
want="$(cat "$ROOT/.python-version" 2>/dev/null | head -n1 | tr -d '[:space:]')"
[[ -n "$want" ]] && candidates+=("$pyenv_root/versions/$want/bin/python")
candidates+=("/root/.pyenv/versions/3.13.0/bin/python" python3.13 python3.12 python3)

first=""
for c in "${candidates[@]}"; do
    path="$(command -v "$c" 2>/dev/null)" || continue
    [[ -n "$first" ]] || first="$path"
    if is_ok "$path"; then echo "$path"; exit 0; fi
done
echo "$first"
