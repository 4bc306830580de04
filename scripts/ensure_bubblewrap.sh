#!/usr/bin/env bash
# The grader runs every submission inside bubblewrap (bwrap): install Debian's
# package when we can (root with apt-get, as on CI); otherwise say how. Then
# check that bwrap can make the namespaces the grader uses (user namespaces
# may be disabled by the kernel or a container runtime). Without it the
# grading tests that need the sandbox fail with the same advice.
set -u
if ! command -v bwrap >/dev/null 2>&1 && [ ! -x /usr/bin/bwrap ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "ensure_bubblewrap: installing Debian's bubblewrap for the grader's sandbox"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null) \
            || echo "ensure_bubblewrap: apt-get could not install bubblewrap; grading tests will fail"
    else
        echo "ensure_bubblewrap: bwrap not found; install it (sudo apt-get install bubblewrap) to grade"
        exit 0
    fi
fi
BWRAP=$(command -v bwrap || echo /usr/bin/bwrap)
if [ -x "$BWRAP" ] && ! "$BWRAP" --unshare-all --unshare-user --die-with-parent --ro-bind / / true 2>/dev/null; then
    echo "ensure_bubblewrap: bwrap is installed but cannot create user namespaces here;"
    echo "  enable them (sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces > 0,"
    echo "  or run the container with user namespaces allowed) for the grader's sandbox"
fi
exit 0
