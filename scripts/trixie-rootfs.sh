#!/usr/bin/env bash
# Makes (once per machine) a Debian 13 "trixie" root file system for the deep trainer, whose
# libtorch needs a newer C++ runtime (GLIBCXX_3.4.32, GCC 13) than Debian 12 has. The trainer
# runs in it the way its container image would, through scripts/rootfs-run.sh. Prints the folder.
#
#   scripts/trixie-rootfs.sh [FOLDER]     (default: $SERVERLESS_ROOTFS or /var/cache/serverless-lifecycle/trixie)
#
# Needs root (debootstrap and, later, mount and chroot do) and the Debian mirror apt uses; about
# 215 MB and under a few minutes. A folder already made is reused; a half-made one is made again.
set -euo pipefail
rootfs=$(realpath -m -- "${1:-${SERVERLESS_ROOTFS:-/var/cache/serverless-lifecycle/trixie}}")
if [ -f "$rootfs/.complete" ]; then echo "$rootfs"; exit 0; fi
if [ -e "$rootfs" ] && [ -n "$(ls -A "$rootfs" 2>/dev/null)" ]; then
  echo "trixie-rootfs: $rootfs exists and is not a root file system this script finished; choose another folder or remove it" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "trixie-rootfs: making $rootfs needs root (debootstrap, mount and chroot do); run it once as root or give a folder made before" >&2
  exit 1
fi

mkdir -p "$(dirname "$rootfs")"
exec 9>"$rootfs.lock"
flock 9
if [ -f "$rootfs/.complete" ]; then echo "$rootfs"; exit 0; fi

if ! command -v debootstrap >/dev/null; then
  echo "trixie-rootfs: installing debootstrap" >&2
  (apt-get install -y -q debootstrap >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q debootstrap >/dev/null; }) \
    || { echo "trixie-rootfs: could not install debootstrap with apt-get" >&2; exit 1; }
fi

# The mirror apt is configured with (deb822 sources first, then the one-line format).
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)[[:space:]]*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1=="deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
mirror="${mirror:-http://deb.debian.org/debian}"

log="$rootfs.log"
rm -rf "$rootfs.partial"
echo "trixie-rootfs: debootstrap --variant=minbase trixie $rootfs from $mirror (log: $log)" >&2
# In a private mount namespace, so the mounts debootstrap makes inside go away even if it is killed.
if ! unshare --mount --propagation private debootstrap --variant=minbase trixie "$rootfs.partial" "$mirror" >"$log" 2>&1; then
  echo "trixie-rootfs: debootstrap failed; the end of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
rmdir "$rootfs" 2>/dev/null || true
mv -T "$rootfs.partial" "$rootfs"
touch "$rootfs/.complete"
echo "$rootfs"
