#!/bin/sh
# Installs Debian's chromium for tests/test_serve_browser.py (the search page in a real
# browser), as the README's test command and CI (.ci/run) run it: only when
# /usr/bin/chromium is missing and this runs as root where apt-get exists. It never fails
# the command: without chromium that test is skipped, saying why.
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser.sh: not root or no apt-get; the browser test will be skipped"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "install_browser.sh: apt-get install chromium (about 100 MB)"
apt-get install -y -q chromium >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } ||
    echo "install_browser.sh: could not install chromium; the browser test will be skipped"
exit 0
