#!/usr/bin/env bash
# Builds the static site: the playground (index.html -> dist/) and then the lean embed widget
# (widget.html -> dist/widget/). Trunk empties its --dist directory, so the widget goes second.
#   bash scripts/build-site.sh [dist]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DIST="${1:-dist}"
# shellcheck source=scripts/setup.sh
source scripts/setup.sh
setup_serve
trunk build --release --dist "${DIST}"
trunk build widget.html --release --dist "${DIST}/widget"
