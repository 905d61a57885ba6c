#!/usr/bin/env bash
# Runs a program inside a root file system, the way its container would: in a private mount
# namespace (so every mount is undone when the program ends, however it ends), with /proc, /dev
# and the folder of each absolute file path among the arguments (the .NET runtime, the trainer)
# mounted at the same paths inside (such a path is passed on resolved, symbolic links followed).
# The environment passes through; the network is the host's.
#
#   scripts/rootfs-run.sh ROOTFS PROGRAM [ARGUMENTS...]
#
# As laptop mode's deep trainer launcher (the trainer path and --job follow these words):
#   Training__DeepTrainerLauncher__0=scripts/rootfs-run.sh
#   Training__DeepTrainerLauncher__1=/var/cache/serverless-lifecycle/trixie   (made by scripts/trixie-rootfs.sh)
#   Training__DeepTrainerLauncher__2=/usr/share/dotnet/dotnet
# Needs root (unshare, mount and chroot do).
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: rootfs-run.sh ROOTFS PROGRAM [ARGUMENTS...]" >&2; exit 2; fi
rootfs="$1"; shift
if [ ! -f "$rootfs/.complete" ]; then
  echo "rootfs-run: $rootfs is not a finished root file system; make it with scripts/trixie-rootfs.sh" >&2
  exit 2
fi

exec unshare --mount --propagation private -- /bin/bash -c '
set -euo pipefail
root="$1"; shift
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
declare -A bound=()
words=()
for word in "$@"; do
  case "$word" in
    /*) if [ -f "$word" ]; then
          word=$(readlink -f "$word")
          folder=$(dirname "$word")
          if [ -z "${bound[$folder]:-}" ]; then
            mkdir -p "$root$folder"
            mount --bind "$folder" "$root$folder"
            bound[$folder]=1
          fi
        fi ;;
  esac
  words+=("$word")
done
exec chroot "$root" "${words[@]}"
' rootfs-run "$rootfs" "$@"
