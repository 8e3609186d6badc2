#!/usr/bin/env bash
# Installs the system tools the test suite needs and pip cannot provide: shellcheck, for the
# cluster provisioning scripts in vm/, ruby, to run the Vagrantfile against a stand-in of
# Vagrant's API, chromium (and a Korean font), the browser that tests/browser drive through
# Playwright, and nodejs, which runs the web app's unit tests. Only as root (CI, a fresh machine); otherwise it says what
# to install, and those tests skip (or fail under CI=true).
set -euo pipefail
missing=()
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v ruby >/dev/null 2>&1 || missing+=(ruby)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
# A Korean font, or the Korean screens' screenshots (test-artifacts/browser) show empty boxes.
{ command -v fc-list >/dev/null 2>&1 && fc-list :lang=ko | grep -q .; } || missing+=(fonts-noto-cjk)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing for the vm/ and browser tests: ${missing[*]} (e.g. 'sudo apt-get install ${missing[*]}')." >&2
fi
