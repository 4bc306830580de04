#!/usr/bin/env bash
# axe-core, the accessibility engine the browser tests inject into pages (tests/test_site.py,
# tests/test_browser.py), from the npm registry with npm itself, into build/axe/ (git-ignored).
# Idempotent: does nothing when the pinned version is there. Needs node's npm (Debian: apt-get install npm).
set -euo pipefail
VERSION="4.14.1"
DEST="${COURSEKIT_AXE_DIR:-$(cd "$(dirname "$0")/.." && pwd)/build/axe}"
PKG="$DEST/node_modules/axe-core/package.json"
if [ -f "$PKG" ] && grep -q "\"version\": \"$VERSION\"" "$PKG"; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "ensure_axe.sh: npm is missing; install it (Debian/Ubuntu: sudo apt-get install npm) and re-run" >&2
  exit 1
fi
mkdir -p "$DEST"
npm install --prefix "$DEST" --no-save --no-audit --no-fund --loglevel=error "axe-core@$VERSION"
echo "ensure_axe.sh: axe-core $VERSION in $DEST/node_modules/axe-core"
