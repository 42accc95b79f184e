#!/usr/bin/env bash
# The page's weight (issue 13): every artefact of a release build, raw and gzip -9, in bytes.
#   bash scripts/sizes.sh             -> measures dist/ (build it first: scripts/build-site.sh)
#   BUILD=1 bash scripts/sizes.sh     -> builds both entries first (scripts/build-site.sh)
#   bash scripts/sizes.sh some/dist   -> measures another build (e.g. main's, to compare)
# Prints one row per file (wasm, js, css, html, json) and the totals of what each page load
# fetches: the playground (index.html + its js + wasm + css) and the lean embed widget
# (widget/index.html + its js + wasm + css; built from widget.html).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DIST="${1:-dist}"
if [[ "${BUILD:-0}" == 1 ]]; then
  bash scripts/build-site.sh "${DIST}"
fi
[[ -d "${DIST}" ]] || { echo "no ${DIST}/: run scripts/build-site.sh first (or BUILD=1)" >&2; exit 1; }
printf '%-44s %10s %10s\n' artefact bytes gzip-9
play_raw=0; play_gz=0; widget_raw=0; widget_gz=0
while IFS= read -r f; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  rel="${f#"${DIST}"/}"
  printf '%-44s %10d %10d\n' "$rel" "$raw" "$gz"
  case "$rel" in
    index.html|msgsim-web-*.js|*_bg.wasm|main-*.css)
      # What the playground page loads (not the embed scripts and examples beside it).
      [[ "$rel" == */* ]] || { play_raw=$((play_raw + raw)); play_gz=$((play_gz + gz)); } ;;
  esac
  case "$rel" in
    widget/index.html|widget/*.js|widget/*.wasm|widget/*.css)
      widget_raw=$((widget_raw + raw)); widget_gz=$((widget_gz + gz)) ;;
  esac
done < <(find "${DIST}" -maxdepth 2 -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.json' \) | sort)
printf '%-44s %10d %10d\n' "page load: playground (index.html + js + wasm + css)" "$play_raw" "$play_gz"
if [[ -f "${DIST}/widget/index.html" ]]; then
  printf '%-44s %10d %10d\n' "page load: widget (widget/: html + js + wasm + css)" "$widget_raw" "$widget_gz"
else
  echo "page load: widget: no ${DIST}/widget/ (an older build, or built without scripts/build-site.sh)"
fi
