#!/usr/bin/env bash
# Starts Azurite (from the repo's pinned npm dependency) on the given loopback ports and waits
# until it answers. Usage: scripts/azurite.sh BLOB_PORT QUEUE_PORT TABLE_PORT DATA_DIR LOG_FILE
# Prints the Azurite process id.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
blob=$1 queue=$2 table=$3 data=$4 log=$5
if [ ! -x "$root/node_modules/.bin/azurite" ]; then
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
mkdir -p "$data"
"$root/node_modules/.bin/azurite" --silent --skipApiVersionCheck --loose --disableProductStyleUrl \
  --location "$data" \
  --blobHost 127.0.0.1 --blobPort "$blob" \
  --queueHost 127.0.0.1 --queuePort "$queue" \
  --tableHost 127.0.0.1 --tablePort "$table" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$blob") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$queue") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$table") 2>/dev/null; then
    echo "$pid"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "Azurite exited; see $log" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "Azurite did not open its ports within 20 s; see $log" >&2
kill "$pid" 2>/dev/null || true
exit 1
