#!/usr/bin/env bash
# Debian's browsers for the browser tests, installed when missing: Chromium (driven by Playwright) and WebKit,
# Safari's engine (WebKitGTK's MiniBrowser and WebKitWebDriver, driven by Selenium on an Xvfb display).
# No browser downloads: Playwright's own builds cannot be fetched here. Needs root; otherwise it says what is
# missing and the tests that need it skip (or fail, with ALONGSIDE_REQUIRE_BROWSER=1 as in CI).
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x "${ALONGSIDE_WEBKIT_DRIVER:-/usr/bin/WebKitWebDriver}" ] \
  && [ -x "${ALONGSIDE_MINIBROWSER:-/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser}" ] || need+=(webkit2gtk-driver)
command -v Xvfb >/dev/null || need+=(xvfb)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "Browsers missing and not root: their tests will be skipped (run 'sudo apt-get install ${need[*]}')."
  exit 0
fi
echo "Installing ${need[*]} for the browser tests ..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
