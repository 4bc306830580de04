#!/usr/bin/env bash
# The browser test needs Debian's Chromium (Playwright's own browser download
# cannot work offline). Install it when we can (root with apt-get, as on CI);
# otherwise say how, and the browser test skips with the same advice.
set -u
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: installing Debian's chromium for the browser test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "ensure_chromium: apt-get could not install chromium; the browser test will skip"
else
    echo "ensure_chromium: chromium not found; install it (sudo apt-get install chromium) to run the browser test"
fi
exit 0
