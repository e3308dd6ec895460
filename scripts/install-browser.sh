#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (cli/tests/report_browser.rs): `sa report`'s
# page and `sa explore` are loaded headless. Does nothing when a Chromium is already there
# (/usr/bin/chromium, or the binary SA_CHROMIUM names).
set -euo pipefail
if [[ -n "${SA_CHROMIUM:-}" && -x "${SA_CHROMIUM}" ]] || [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
sudo=""
if [[ "$(id -u)" != 0 ]]; then
  sudo="sudo"
fi
echo "install-browser: installing Debian's chromium (for cli/tests/report_browser.rs)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y --no-install-recommends chromium >/dev/null; then
  $sudo apt-get update >/dev/null
  $sudo apt-get install -y --no-install-recommends chromium >/dev/null
fi
/usr/bin/chromium --version >&2
