#!/usr/bin/env bash
# Packs the npm package `msgsim` into one tarball (issue: packaged for the ecosystems its users
# live in):
#   bash js/pack.sh     -> <target>/npm/msgsim-<version>.tgz, its path printed last
# The package holds one build of the JS API (msgsim-js) in two wasm-bindgen flavours:
#   web/   ES module (`--target web`): browsers and bundlers; the .wasm is found with
#          `new URL("msgsim_js_bg.wasm", import.meta.url)`, which Vite and webpack 5 resolve;
#   node/  CommonJS (`--target nodejs`) for `require`, plus node/index.mjs, the Node ES module
#          entry that loads web/'s .wasm synchronously;
# and embed/msgsim-embed.js, the <msgsim-embed> custom element (js/embed/). The version is the
# workspace's (the msgsim crate's `version` in Cargo.toml). Templates: js/npm/.
# Tested by js/tests/package.sh (installs the tarball into fresh projects and runs the README).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
META="$(cargo metadata --format-version 1 --no-deps)"
TARGET_DIR="$(node -e 'console.log(JSON.parse(process.argv[1]).target_directory)' "${META}")"
VERSION="$(node -e 'console.log(JSON.parse(process.argv[1]).packages.find((p) => p.name === "msgsim").version)' "${META}")"
NPM_DIR="${TARGET_DIR}/npm"
STAGE="${NPM_DIR}/package"
rm -rf "${STAGE}"
mkdir -p "${STAGE}"

TARGET=web OUT="${STAGE}/web" bash js/build.sh
TARGET=nodejs OUT="${STAGE}/node" bash js/build.sh
rm -f "${STAGE}"/web/.gitignore "${STAGE}"/node/.gitignore
# One .wasm in the package: both flavours bind the same module (checked byte for byte), so the
# CommonJS glue reads web/'s copy.
cmp -s "${STAGE}/node/msgsim_js_bg.wasm" "${STAGE}/web/msgsim_js_bg.wasm" ||
  { echo "the nodejs and web builds' .wasm differ: cannot share one" >&2; exit 1; }
rm "${STAGE}/node/msgsim_js_bg.wasm" "${STAGE}/node/msgsim_js_bg.wasm.d.ts"
grep -q '`${__dirname}/msgsim_js_bg.wasm`' "${STAGE}/node/msgsim_js.js" ||
  { echo "wasm-bindgen's nodejs glue changed: update js/pack.sh" >&2; exit 1; }
sed -i 's#`${__dirname}/msgsim_js_bg.wasm`#`${__dirname}/../web/msgsim_js_bg.wasm`#' "${STAGE}/node/msgsim_js.js"

cp js/npm/README.md "${STAGE}/"
cp js/npm/node/index.mjs js/npm/node/package.json "${STAGE}/node/"
mkdir -p "${STAGE}/embed"
cp js/embed/msgsim-embed.js "${STAGE}/embed/"
for license in LICENSE-MIT LICENSE-APACHE; do
  if [[ -f "${license}" ]]; then cp "${license}" "${STAGE}/"; fi
done
node -e '
  const fs = require("fs");
  const [src, dst, version] = process.argv.slice(1);
  const pkg = JSON.parse(fs.readFileSync(src, "utf8"));
  pkg.version = version;
  fs.writeFileSync(dst, JSON.stringify(pkg, null, 2) + "\n");
' js/npm/package.json "${STAGE}/package.json" "${VERSION}"

TARBALL="$(cd "${NPM_DIR}" && npm pack ./package --pack-destination . --silent | tail -n 1)"
echo "npm package: $(wc -c <"${NPM_DIR}/${TARBALL}") bytes, ${VERSION}"
echo "${NPM_DIR}/${TARBALL}"
