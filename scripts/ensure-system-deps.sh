#!/usr/bin/env bash
# Install the system packages the test suite needs, but only when a binary is missing:
#   postgresql (server binaries under /usr/lib/postgresql/<v>/bin), redis-server (+ redis-cli),
#   chromium (Playwright e2e drives /usr/bin/chromium), nodejs/npm (frontend build + vitest).
# Non-interactive; uses sudo -n when not root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "[system-deps] $*" >&2; }

have_pg_server() {
    compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null && return 0
    command -v postgres >/dev/null 2>&1
}

pkgs=()
have_pg_server || pkgs+=(postgresql)
command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || pkgs+=(redis-tools)
if ! command -v chromium >/dev/null 2>&1 && [[ ! -x /usr/bin/chromium ]]; then pkgs+=(chromium fonts-liberation); fi
if [[ -f "$ROOT/frontend/package.json" ]] && ! command -v npm >/dev/null 2>&1; then
    log "WARNING: npm not found; installing Debian's nodejs/npm (the frontend toolchain may need a newer Node, >= 20)"
    pkgs+=(nodejs npm)
fi

# dovecot-imapd: a real IMAP server on loopback for the email (IMAP polling) tests.
[[ -x /usr/sbin/dovecot ]] || command -v dovecot >/dev/null 2>&1 || pkgs+=(dovecot-imapd)

if ((${#pkgs[@]} == 0)); then
    log "all present (postgresql, redis, chromium, node)"
    exit 0
fi

if [[ $EUID -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    log "ERROR: missing packages (${pkgs[*]}) and not root / no passwordless sudo. Install them and retry:"
    log "  apt-get install -y ${pkgs[*]}"
    exit 1
fi
command -v apt-get >/dev/null 2>&1 || { log "ERROR: missing ${pkgs[*]} and apt-get is not available"; exit 1; }

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

log "installing: ${pkgs[*]}"
for attempt in 1 2 3; do
    if "${SUDO[@]}" apt-get update -q </dev/null \
        && "${SUDO[@]}" apt-get install "${APT_OPTS[@]}" "${pkgs[@]}" </dev/null; then
        break
    fi
    ((attempt < 3)) || { log "ERROR: apt-get install failed"; exit 1; }
    log "apt-get failed (attempt $attempt), retrying in 10s"
    sleep 10
done

have_pg_server || { log "ERROR: postgresql installed but no server binary found"; exit 1; }
command -v redis-server >/dev/null 2>&1 || { log "ERROR: redis-server still missing"; exit 1; }
log "done"
