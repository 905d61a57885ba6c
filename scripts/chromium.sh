#!/usr/bin/env bash
# Prints the path of a Chromium the dashboard's browser tests can drive (Playwright is pointed at it;
# it does not download its own browser). $CHROMIUM_PATH wins; else Debian's chromium, installed with
# apt-get when missing and running as root.
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ]; then
  [ -x "$CHROMIUM_PATH" ] || { echo "chromium: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable" >&2; exit 1; }
  echo "$CHROMIUM_PATH"; exit 0
fi
for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null; then command -v "$candidate"; exit 0; fi
done
if [ "$(id -u)" != 0 ]; then
  echo "chromium: no Chromium found; install it (Debian: apt-get install chromium) or set CHROMIUM_PATH" >&2
  exit 1
fi
exec 9>/tmp/serverless-lifecycle-chromium.lock
flock 9
if ! command -v chromium >/dev/null; then
  echo "chromium: installing Debian's chromium" >&2
  (apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }) \
    || { echo "chromium: apt-get could not install chromium" >&2; exit 1; }
fi
command -v chromium
