#!/usr/bin/env bash
# Tries the documentation recipes of docs/embedding.md for real, each with its site generator
# as its users install it (issue: packaged for the ecosystems its users live in):
#   mkdocs      MkDocs 1.6.1 (PyPI): mkdocs.yml + a Markdown page with the raw <msgsim-embed>
#               element, the script copied into the site as `extra_javascript`; `mkdocs build`.
#   mdbook      mdBook 0.4.52 (crates.io, `cargo install`, ~3 min once; kept in ~/.cargo/bin):
#               book.toml `additional-js` + a chapter with the raw element; `mdbook build`.
#   docusaurus  Docusaurus 3.10.2 (npm, classic preset): the script loaded from the playground by
#               `scripts` in docusaurus.config.js, the element in an .mdx page; `docusaurus build`.
# Serves each built site on 127.0.0.2 and the playground's dist/ on 127.0.0.1 (two origins), opens
# the page in headless Chromium (e2e/recipes.mjs): the element must frame the widget, whose canvas
# draws, and the frame must take the widget's size. Screenshots: e2e/out/recipe-<name>.png.
#   bash docs/recipes/check.sh                    (after `trunk build --release`; needs python3 + venv, npm)
#   RECIPES="mkdocs mdbook" bash docs/recipes/check.sh   (some of them)
set -euo pipefail
shopt -s inherit_errexit
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${ROOT}"
DIST="${RECIPES_DIST:-dist}"
[[ -f "${DIST}/msgsim-embed.js" ]] || { echo "no dist/msgsim-embed.js: run trunk build --release first" >&2; exit 1; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/msgsim-recipes.XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "${p}" 2>/dev/null || true; done
  rm -rf "${WORK}"
}
trap cleanup EXIT

RECIPES="${RECIPES:-mkdocs mdbook docusaurus}"
PLAY_PORT="${RECIPES_PLAYGROUND_PORT:-18791}"
SITE_PORT="${RECIPES_SITE_PORT:-18792}"
PLAYGROUND="http://127.0.0.1:${PLAY_PORT}/"
MDBOOK_VERSION="0.4.52"
DOCUSAURUS_VERSION="3.10.2"

# The element as a page author writes it; `src` names the playground when the script is served by
# the site itself (a copy), not by the playground.
element() { # scenario, seed, with-src (1/0)
  local src=""
  if [[ "$3" == 1 ]]; then src=" src=\"${PLAYGROUND}\""; fi
  cat <<HTML
<msgsim-embed scenario="$1" seed="$2"${src}>
  <a href="${PLAYGROUND}?scenario=$1&amp;seed=$2">Open the scenario</a>
</msgsim-embed>
HTML
}

mkdocs_site() { # -> ${WORK}/mkdocs-site
  python3 -m venv "${WORK}/venv"
  "${WORK}/venv/bin/pip" install --quiet --disable-pip-version-check mkdocs==1.6.1
  mkdir -p "${WORK}/mkdocs/docs"
  cp "${DIST}/msgsim-embed.js" "${WORK}/mkdocs/docs/"
  cat >"${WORK}/mkdocs/mkdocs.yml" <<YAML
site_name: Outbox notes
extra_javascript:
  - msgsim-embed.js
YAML
  { echo "# The transactional outbox"; echo
    echo "The relay publishes before it marks the row, so a crash in between publishes twice."; echo
    element outbox-polling 7 1; } >"${WORK}/mkdocs/docs/index.md"
  (cd "${WORK}/mkdocs" && "${WORK}/venv/bin/mkdocs" build --quiet --site-dir "${WORK}/mkdocs-site")
  echo "${WORK}/mkdocs-site"
}

mdbook_site() { # -> ${WORK}/mdbook/book
  if ! mdbook --version 2>/dev/null | grep -q "v${MDBOOK_VERSION}$"; then
    echo "installing mdBook ${MDBOOK_VERSION} (cargo install, about 3 min on 2 cores)" >&2
    cargo install mdbook --version "${MDBOOK_VERSION}" --locked --no-default-features --features search >&2
  fi
  mkdir -p "${WORK}/mdbook/src"
  # additional-js is relative to the book's root (where book.toml is), not to src/.
  cp "${DIST}/msgsim-embed.js" "${WORK}/mdbook/"
  cat >"${WORK}/mdbook/book.toml" <<TOML
[book]
title = "Outbox notes"

[output.html]
additional-js = ["msgsim-embed.js"]
TOML
  printf '# Summary\n\n- [The transactional outbox](outbox.md)\n' >"${WORK}/mdbook/src/SUMMARY.md"
  { echo "# The transactional outbox"; echo
    echo "The relay publishes before it marks the row, so a crash in between publishes twice:"; echo
    element outbox-polling 7 1; } >"${WORK}/mdbook/src/outbox.md"
  (cd "${WORK}/mdbook" && mdbook build >&2)
  echo "${WORK}/mdbook/book"
}

docusaurus_site() { # -> ${WORK}/docusaurus/build
  local d="${WORK}/docusaurus"
  mkdir -p "${d}/docs"
  cat >"${d}/package.json" <<JSON
{ "name": "outbox-notes", "private": true,
  "scripts": { "build": "docusaurus build" },
  "dependencies": { "@docusaurus/core": "${DOCUSAURUS_VERSION}", "@docusaurus/preset-classic": "${DOCUSAURUS_VERSION}",
    "react": "^19.0.0", "react-dom": "^19.0.0" } }
JSON
  cat >"${d}/docusaurus.config.js" <<JS
// The recipe of docs/embedding.md: the script, served by the playground, loaded on every page.
export default {
  title: "Outbox notes",
  url: "http://127.0.0.2:${SITE_PORT}",
  baseUrl: "/",
  onBrokenLinks: "throw",
  scripts: [{ src: "${PLAYGROUND}msgsim-embed.js", defer: true }],
  presets: [["classic", { docs: { routeBasePath: "/", sidebarPath: undefined }, blog: false, pages: false }]],
};
JS
  { printf -- '---\nslug: /\n---\n\n# Circuit breaker\n\n'
    echo "When the payment service slows down, the breaker opens and the shop answers at once:"; echo
    element circuit-breaker 11 0; } >"${d}/docs/index.mdx"
  (cd "${d}" && npm install --no-audit --no-fund --loglevel=error >&2 && npx docusaurus build --out-dir build >&2)
  echo "${d}/build"
}

python3 -m http.server "${PLAY_PORT}" --bind 127.0.0.1 --directory "${DIST}" >/dev/null 2>&1 &
PIDS+=($!)
failed=0
for name in ${RECIPES}; do
  site="$("${name}_site" | tail -n 1)"
  python3 -m http.server "${SITE_PORT}" --bind 127.0.0.2 --directory "${site}" >/dev/null 2>&1 &
  site_pid=$!
  PIDS+=("${site_pid}")
  for _ in $(seq 50); do
    if curl -fs "http://127.0.0.2:${SITE_PORT}/" >/dev/null; then break; fi
    sleep 0.1
  done
  page="http://127.0.0.2:${SITE_PORT}/"
  if [[ "${name}" == mdbook ]]; then page="${page}outbox.html"; fi
  node e2e/recipes.mjs "${name}" "${page}" || failed=1
  kill "${site_pid}" 2>/dev/null || true
done
exit "${failed}"
