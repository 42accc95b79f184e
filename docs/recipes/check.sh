#!/usr/bin/env bash
# Tries the documentation recipes of docs/embedding.md for real, with the site generators that
# install in seconds from their registries (issue: packaged for the ecosystems its users live in):
#   MkDocs 1.6.1 (PyPI): mkdocs.yml + a Markdown page with the raw <msgsim-embed> element and the
#   script as `extra_javascript`, built with `mkdocs build`.
# Serves the built site on 127.0.0.2 and the playground's dist/ on 127.0.0.1 (two origins), opens
# the page in headless Chromium (e2e/recipes.mjs): the element must frame the widget, whose canvas
# draws, and the frame must take the widget's size. Screenshot: e2e/out/recipe-mkdocs.png.
#   bash docs/recipes/check.sh            (after `trunk build --release`; needs python3 + venv)
set -euo pipefail
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

python3 -m venv "${WORK}/venv"
"${WORK}/venv/bin/pip" install --quiet --disable-pip-version-check mkdocs==1.6.1

PLAY_PORT="${RECIPES_PLAYGROUND_PORT:-18791}"
SITE_PORT="${RECIPES_SITE_PORT:-18792}"
PLAYGROUND="http://127.0.0.1:${PLAY_PORT}/"

# The MkDocs recipe, as docs/embedding.md gives it (the script copied into the site's docs/).
mkdir -p "${WORK}/mkdocs/docs"
cp "${DIST}/msgsim-embed.js" "${WORK}/mkdocs/docs/"
cat >"${WORK}/mkdocs/mkdocs.yml" <<YAML
site_name: Outbox notes
extra_javascript:
  - msgsim-embed.js
YAML
cat >"${WORK}/mkdocs/docs/index.md" <<MD
# The transactional outbox

The relay publishes before it marks the row, so a crash in between publishes twice.

<msgsim-embed scenario="outbox-polling" seed="7" src="${PLAYGROUND}">
  <a href="${PLAYGROUND}?scenario=outbox-polling&amp;seed=7">Open the scenario</a>
</msgsim-embed>
MD
(cd "${WORK}/mkdocs" && "${WORK}/venv/bin/mkdocs" build --quiet --site-dir "${WORK}/mkdocs-site")

python3 -m http.server "${PLAY_PORT}" --bind 127.0.0.1 --directory "${DIST}" >/dev/null 2>&1 &
PIDS+=($!)
python3 -m http.server "${SITE_PORT}" --bind 127.0.0.2 --directory "${WORK}/mkdocs-site" >/dev/null 2>&1 &
PIDS+=($!)
sleep 1
node e2e/recipes.mjs "mkdocs" "http://127.0.0.2:${SITE_PORT}/"
