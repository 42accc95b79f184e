#!/usr/bin/env bash
# The page's weight (issue 13): every artefact of a release build, raw and gzip -9, in bytes.
#   bash scripts/sizes.sh             -> measures dist/ (build it first: trunk build --release)
#   BUILD=1 bash scripts/sizes.sh     -> runs `trunk build --release` first
#   bash scripts/sizes.sh some/dist   -> measures another build (e.g. main's, to compare)
# Prints one row per file (wasm, js, css, html) and the totals of what a page load fetches
# (the playground: index.html + its js + wasm + css).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DIST="${1:-dist}"
if [[ "${BUILD:-0}" == 1 ]]; then
  # shellcheck source=scripts/setup.sh
  source scripts/setup.sh
  setup_serve
  trunk build --release --dist "${DIST}"
fi
[[ -d "${DIST}" ]] || { echo "no ${DIST}/: run trunk build --release first (or BUILD=1)" >&2; exit 1; }
printf '%-44s %10s %10s\n' artefact bytes gzip-9
total_raw=0; total_gz=0
while IFS= read -r f; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  printf '%-44s %10d %10d\n' "${f#"${DIST}"/}" "$raw" "$gz"
  case "$f" in
    */index.html|*.wasm|*.js|*.css)
      # The playground page loads these (the widget shares them: ?embed=1 is the same page).
      total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz)) ;;
  esac
done < <(find "${DIST}" -maxdepth 2 -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.json' \) | sort)
printf '%-44s %10d %10d\n' "page load (index.html + js + wasm + css)" "$total_raw" "$total_gz"
