#!/usr/bin/env bash
# The Debian packages the test suite needs, installed when they are missing:
# PostgreSQL 15 (the tests start a throwaway server of their own), Chromium
# (the browser tests drive it through Playwright; Playwright's own browser
# downloads are not used), and Node.js with npm (the OIDC tests run a real
# OpenID provider, tests/oidc/, whose packages `npm ci` installs from its lock
# file; Debian 12's Node.js 18 runs it, as do later versions).
# Installing needs root and apt-get; otherwise a missing package is named.
set -euo pipefail

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "error: the tests need these Debian packages: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
