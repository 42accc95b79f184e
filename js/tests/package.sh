#!/usr/bin/env bash
# The npm package, installed as a user installs it (issue: packaged for the ecosystems its users
# live in): packs the tarball (js/pack.sh), then in fresh temporary projects
#   1. Node, ES modules:   npm install <tarball>; runs the README's ESM example as written
#   2. Node, CommonJS:     runs the README's CommonJS example (require)
#   3. TypeScript:         tsc (moduleResolution node16 and bundler) type-checks the ESM example
#   4. Vite + Chromium:    a Vite build of a page running the ESM example, opened in headless
#                          Chromium; the .wasm is resolved and emitted by the bundler
#   5. webpack + Chromium: the same page built by webpack 5 (its asset modules resolve
#                          `new URL("….wasm", import.meta.url)`), opened in headless Chromium
# and checks each prints exactly the README's expected output (pinned from a real run).
# Needs network access to the npm registry (vite, webpack, typescript) and Chromium + playwright-core
# (scripts/setup.sh installs both; e2e/node_modules).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${ROOT}"
HERE="${ROOT}/js/tests/package"
README="${ROOT}/js/npm/README.md"
# MSGSIM_TARBALL=path: test an already packed tarball instead of packing one.
TARBALL="${MSGSIM_TARBALL:-$(bash js/pack.sh | tail -n 1)}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/msgsim-npm.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "${SERVER_PID}" ]]; then kill "${SERVER_PID}" 2>/dev/null || true; fi
  rm -rf "${WORK}"
}
trap cleanup EXIT
NPM_FLAGS=(--no-audit --no-fund --loglevel=error)

node "${HERE}/readme.mjs" esm "${README}" >"${WORK}/example.mjs"
node "${HERE}/readme.mjs" cjs "${README}" >"${WORK}/example.cjs"
node "${HERE}/readme.mjs" expected-esm "${README}" >"${WORK}/expected.txt"
node "${HERE}/readme.mjs" expected-cjs "${README}" >"${WORK}/expected-cjs.txt"

same() { # name, expected file, actual file
  if diff -u "$2" "$3"; then echo "ok: $1"; else echo "FAILED: $1 printed something else (diff above)"; exit 1; fi
}

project() { # dir, extra packages...
  mkdir -p "$1"
  (cd "$1" && npm init -y >/dev/null && npm install "${NPM_FLAGS[@]}" "${TARBALL}" "${@:2}")
}

# 1. Node, ES modules.
project "${WORK}/esm"
cp "${WORK}/example.mjs" "${WORK}/esm/main.mjs"
(cd "${WORK}/esm" && node main.mjs) >"${WORK}/esm.out"
same "Node ESM (import … from \"msgsim\")" "${WORK}/expected.txt" "${WORK}/esm.out"

# 2. Node, CommonJS.
project "${WORK}/cjs"
cp "${WORK}/example.cjs" "${WORK}/cjs/main.cjs"
(cd "${WORK}/cjs" && node main.cjs) >"${WORK}/cjs.out"
same "Node CommonJS (require(\"msgsim\"))" "${WORK}/expected-cjs.txt" "${WORK}/cjs.out"

# 3. TypeScript, both resolutions a project uses today.
project "${WORK}/ts" typescript@5.9.3
cp "${WORK}/example.mjs" "${WORK}/ts/main.mts"
for resolution in node16 bundler; do
  module=node16
  if [[ "${resolution}" == bundler ]]; then module=es2022; fi
  cat >"${WORK}/ts/tsconfig.json" <<JSON
{ "compilerOptions": { "strict": true, "noEmit": true, "target": "es2022", "lib": ["es2022", "dom", "esnext.disposable"],
  "module": "${module}", "moduleResolution": "${resolution}", "types": [] }, "files": ["main.mts"] }
JSON
  (cd "${WORK}/ts" && npx tsc -p tsconfig.json)
  echo "ok: TypeScript (moduleResolution ${resolution}) types the example"
done

# The page both bundlers build: the ESM example with console.log copied into #out.
page() { # dir: writes index.html (loading main.js as a module), capture.js and main.js
  cat >"$1/index.html" <<'HTML'
<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>msgsim in a bundler</title></head>
<body><p id="status">running</p><pre id="out"></pre><script type="module" src="./main.js"></script></body></html>
HTML
  cat >"$1/capture.js" <<'JS'
// Runs before the example (imports evaluate in order): console.log goes to #out too.
const out = document.getElementById("out");
const log = console.log.bind(console);
console.log = (...args) => { out.textContent += args.join(" ") + "\n"; log(...args); };
window.addEventListener("error", (e) => { document.getElementById("status").textContent = `error: ${e.message}`; });
window.addEventListener("unhandledrejection", (e) => { document.getElementById("status").textContent = `error: ${e.reason}`; });
JS
  { echo 'import "./capture.js";'; cat "${WORK}/example.mjs"; echo 'document.getElementById("status").textContent = "done";'; } >"$1/main.js"
}

in_chromium() { # name, site dir, port: serves the built site and checks the page printed the README's output
  python3 -m http.server "$3" --bind 127.0.0.1 --directory "$2" >/dev/null 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 50); do
    if curl -fs "http://127.0.0.1:$3/" >/dev/null; then break; fi
    sleep 0.1
  done
  node "${HERE}/browser.mjs" "http://127.0.0.1:$3/" "${ROOT}/e2e/node_modules/playwright-core" >"${WORK}/$1.out"
  kill "${SERVER_PID}" 2>/dev/null || true
  SERVER_PID=""
  same "$1 build in headless Chromium (the bundler resolved the .wasm)" "${WORK}/expected.txt" "${WORK}/$1.out"
}

PORT="${PACKAGE_TEST_PORT:-18790}"

# 4. Vite build, opened in headless Chromium.
project "${WORK}/vite" vite@8
page "${WORK}/vite"
(cd "${WORK}/vite" && npx vite build --logLevel error)
ls "${WORK}/vite/dist/assets" | grep -q '\.wasm$' || { echo "FAILED: Vite emitted no .wasm asset"; exit 1; }
in_chromium Vite "${WORK}/vite/dist" "${PORT}"

# 5. webpack 5 build (production mode, the configuration a project starts from), in Chromium.
project "${WORK}/webpack" webpack@5 webpack-cli@6
# An ES-module project ("type": "module"; `npm init` now writes "commonjs", under which webpack
# parses .js as CommonJS and refuses `import`).
(cd "${WORK}/webpack" && npm pkg set type=module)
page "${WORK}/webpack"
cat >"${WORK}/webpack/webpack.config.mjs" <<'JS'
import path from "node:path";
import { fileURLToPath } from "node:url";
const here = path.dirname(fileURLToPath(import.meta.url));
export default {
  mode: "production",
  entry: "./main.js",
  output: { path: path.join(here, "dist"), filename: "main.js", clean: true },
};
JS
(cd "${WORK}/webpack" && npx webpack --config webpack.config.mjs --stats errors-only)
cp "${WORK}/webpack/index.html" "${WORK}/webpack/dist/"
ls "${WORK}/webpack/dist" | grep -q '\.wasm$' || { echo "FAILED: webpack emitted no .wasm asset"; exit 1; }
in_chromium webpack "${WORK}/webpack/dist" "$((PORT + 1))"

echo "npm package: every target runs the README's example ($(basename "${TARBALL}"), $(wc -c <"${TARBALL}") bytes)"
