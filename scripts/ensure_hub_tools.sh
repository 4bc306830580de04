#!/usr/bin/env bash
# The JupyterHub test and benchmark need configurable-http-proxy, JupyterHub's proxy, which
# ships on npm only. Install it when we can (npm present, as on CI); otherwise say how, and
# the hub test skips with the same advice.
set -u
if command -v configurable-http-proxy >/dev/null 2>&1; then
    exit 0
fi
if command -v npm >/dev/null 2>&1; then
    echo "ensure_hub_tools: installing configurable-http-proxy from npm for the JupyterHub test"
    npm install --global --no-fund --no-audit --loglevel=error configurable-http-proxy@5 >/dev/null \
        || echo "ensure_hub_tools: npm could not install configurable-http-proxy; the hub test will skip"
else
    echo "ensure_hub_tools: npm not found; install Node.js and then" \
         "'npm install -g configurable-http-proxy' to run the hub test"
fi
exit 0
