#!/usr/bin/env bash
# README command 1: build the playground and serve it with live reload.
#   bash scripts/serve.sh            -> http://127.0.0.1:8080/
#   PORT=9000 bash scripts/serve.sh  -> http://127.0.0.1:9000/
# Installs (once) the wasm32 target, trunk, wasm-bindgen-cli and wasm-opt.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh

ADDRESS="${ADDRESS:-127.0.0.1}"
PORT="${PORT:-8080}"
[[ "${PORT}" =~ ^[0-9]+$ ]] || die "PORT must be a number, got '${PORT}'"

log "setup (wasm32 target, trunk, wasm-bindgen-cli, wasm-opt)"
setup_serve

URL="http://${ADDRESS}:${PORT}/"
cat <<EOF

============================================================
  msgsim playground will be served at:

      ${URL}

  (first build takes a minute or two; Ctrl-C to stop)
============================================================

EOF
log "trunk serve --address ${ADDRESS} --port ${PORT}"
exec trunk serve --address "${ADDRESS}" --port "${PORT}"
