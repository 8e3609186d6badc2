#!/usr/bin/env bash
# Installs the system tools the test suite needs and pip cannot provide: shellcheck, for the
# cluster provisioning scripts in vm/. Only as root (CI, a fresh machine); otherwise it says what
# to install and the shellcheck tests fail with that message.
set -euo pipefail
if command -v shellcheck >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
else
  echo "shellcheck is missing: install it (e.g. 'sudo apt-get install shellcheck') for the vm/ tests." >&2
fi
