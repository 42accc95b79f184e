#!/usr/bin/env bash
# shellcheck shell=bash
#
# Idempotent toolchain setup for msgsim. Installs only what is missing or at
# the wrong version; everything comes from rustup, crates.io, npm or Debian apt
# (this machine has no other network access; see shared/TOOLCHAIN.md).
#
# Use it either way:
#   bash scripts/setup.sh          # full setup (what scripts/test.sh needs)
#   bash scripts/setup.sh serve    # only what scripts/serve.sh needs
#   source scripts/setup.sh        # defines the ensure_* functions, runs nothing
#
# Functions: ensure_wasm_target, ensure_trunk, ensure_wasm_bindgen_cli,
# ensure_wasm_opt, ensure_chromium, ensure_e2e_deps, ensure_js_deps; setup_serve, setup_all.

set -euo pipefail

MSGSIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION="0.21.14"
BINARYEN_VERSION="132"
WASM_TARGET="wasm32-unknown-unknown"

# Tools installed with `cargo install` land in ~/.cargo/bin.
case ":${PATH}:" in
  *":${HOME}/.cargo/bin:"*) ;;
  *) export PATH="${HOME}/.cargo/bin:${PATH}" ;;
esac

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2
  exit 1
}

# Run a privileged command: directly as root, via sudo otherwise.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

apt_install() {
  log "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

ensure_cargo() {
  command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust via rustup first)"
}

ensure_npm() {
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    log "node/npm missing: installing from Debian"
    apt_install nodejs npm
  fi
}

ensure_wasm_target() {
  ensure_cargo
  if rustup target list --installed 2>/dev/null | grep -qx "${WASM_TARGET}"; then
    log "ok: rust target ${WASM_TARGET}"
  else
    log "installing rust target ${WASM_TARGET}"
    rustup target add "${WASM_TARGET}"
  fi
}

ensure_trunk() {
  ensure_cargo
  local have=""
  if command -v trunk >/dev/null 2>&1; then
    have="$(trunk --version 2>/dev/null | awk '{print $2}' || true)"
  fi
  if [[ "${have}" == "${TRUNK_VERSION}" ]]; then
    log "ok: trunk ${have}"
    return 0
  fi
  log "installing trunk ${TRUNK_VERSION} (found: '${have:-none}'); takes ~12 min on 2 cores"
  # trunk 0.22 needs a newer rustc than 1.95; 0.21.14 builds with --locked.
  cargo install trunk --version "${TRUNK_VERSION}" --locked --force
  have="$(trunk --version | awk '{print $2}')"
  [[ "${have}" == "${TRUNK_VERSION}" ]] || die "trunk --version reports '${have}', want ${TRUNK_VERSION}"
  log "installed: trunk ${have}"
}

# The wasm-bindgen version pinned in Cargo.lock (first `name = "wasm-bindgen"` entry).
lock_wasm_bindgen_version() {
  local lock="${MSGSIM_ROOT}/Cargo.lock"
  [[ -f "${lock}" ]] || return 0
  awk '
    $0 == "name = \"wasm-bindgen\"" { found = 1; next }
    found && /^version = / { gsub(/"/, "", $3); print $3; exit }
    /^\[\[package\]\]/ { found = 0 }
  ' "${lock}"
}

ensure_wasm_bindgen_cli() {
  ensure_cargo
  local want count
  want="$(lock_wasm_bindgen_version)"
  if [[ -z "${want}" ]]; then
    if [[ ! -f "${MSGSIM_ROOT}/Cargo.lock" ]]; then
      log "no Cargo.lock: cargo generate-lockfile"
      (cd "${MSGSIM_ROOT}" && cargo generate-lockfile)
    else
      log "Cargo.lock has no wasm-bindgen entry: cargo fetch"
      (cd "${MSGSIM_ROOT}" && cargo fetch)
    fi
    want="$(lock_wasm_bindgen_version)"
  fi
  [[ -n "${want}" ]] || die "no wasm-bindgen package in Cargo.lock (is wasm-bindgen a dependency?)"
  count="$(grep -cx 'name = "wasm-bindgen"' "${MSGSIM_ROOT}/Cargo.lock" || true)"
  if [[ "${count}" -gt 1 ]]; then
    warn "Cargo.lock holds ${count} versions of wasm-bindgen; using the first (${want})"
  fi

  local have="" have_runner=""
  if command -v wasm-bindgen >/dev/null 2>&1; then
    have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
  fi
  if command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
    have_runner="$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}' || true)"
  fi
  if [[ "${have}" == "${want}" && "${have_runner}" == "${want}" ]]; then
    log "ok: wasm-bindgen-cli ${have} (matches Cargo.lock)"
    return 0
  fi
  log "installing wasm-bindgen-cli ${want} (found: wasm-bindgen '${have:-none}', test-runner '${have_runner:-none}'); takes ~4 min"
  # No --locked: the registry copy here lacks one locked transitive version.
  cargo install wasm-bindgen-cli --version "${want}" --force
  have="$(wasm-bindgen --version | awk '{print $2}')"
  [[ "${have}" == "${want}" ]] || die "wasm-bindgen --version reports '${have}', want ${want}"
  log "installed: wasm-bindgen-cli ${have}"
}

ensure_wasm_opt() {
  if command -v wasm-opt >/dev/null 2>&1; then
    log "ok: $(wasm-opt --version 2>/dev/null | head -n1)"
    return 0
  fi
  ensure_npm
  log "installing wasm-opt: npm install -g binaryen@${BINARYEN_VERSION}"
  as_root npm install -g --no-audit --no-fund "binaryen@${BINARYEN_VERSION}"
  hash -r
  command -v wasm-opt >/dev/null 2>&1 || die "wasm-opt still not on PATH after installing binaryen"
  log "installed: $(wasm-opt --version | head -n1)"
}

ensure_chromium() {
  if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    log "ok: chromium + chromedriver ($(/usr/bin/chromedriver --version 2>/dev/null | awk '{print $2}'))"
    return 0
  fi
  log "installing chromium + chromium-driver from Debian"
  apt_install chromium chromium-driver
  [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] || die "chromium/chromedriver still missing"
}

ensure_e2e_deps() {
  local dir="${MSGSIM_ROOT}/e2e"
  [[ -f "${dir}/package.json" ]] || die "missing ${dir}/package.json"
  if [[ -d "${dir}/node_modules/playwright-core" ]]; then
    log "ok: e2e node deps (playwright-core $(cd "${dir}" && node -p 'require("playwright-core/package.json").version' 2>/dev/null || echo '?'))"
    return 0
  fi
  ensure_npm
  if [[ -f "${dir}/package-lock.json" ]]; then
    log "installing e2e node deps: npm ci"
    (cd "${dir}" && npm ci --no-audit --no-fund)
  else
    log "installing e2e node deps: npm install"
    (cd "${dir}" && npm install --no-audit --no-fund)
  fi
}

# js/: TypeScript, to check the generated msgsim_js.d.ts (js/package.json, npm ci).
ensure_js_deps() {
  local dir="${MSGSIM_ROOT}/js"
  [[ -f "${dir}/package.json" ]] || die "missing ${dir}/package.json"
  if [[ -x "${dir}/node_modules/.bin/tsc" ]]; then
    log "ok: js node deps (typescript $(cd "${dir}" && node -p 'require("typescript/package.json").version' 2>/dev/null || echo '?'))"
    return 0
  fi
  ensure_npm
  log "installing js node deps: npm ci"
  (cd "${dir}" && npm ci --no-audit --no-fund)
}

# What `scripts/serve.sh` needs.
setup_serve() {
  ensure_wasm_target
  ensure_trunk
  ensure_wasm_bindgen_cli
  ensure_wasm_opt
}

# What `scripts/test.sh` needs.
setup_all() {
  setup_serve
  ensure_chromium
  ensure_e2e_deps
  ensure_js_deps
}

if [[ "${BASH_SOURCE[0]}" == "${0}" ]]; then
  case "${1:-all}" in
    all) setup_all ;;
    serve) setup_serve ;;
    *) die "usage: $0 [all|serve]" ;;
  esac
  log "setup done"
fi
