#!/usr/bin/env bash
# Laptop mode: builds the product, starts Azurite (unless one already listens on 10000-10002)
# and the laptop host on http://127.0.0.1:7071, registers the sample churn model, uploads its
# dataset, waits for the training run, and keeps serving until Ctrl+C.
set -euo pipefail
cd "$(dirname "$0")"
root="$(pwd)"
url="http://127.0.0.1:${PORT:-7071}"
state="$root/.laptop"
mkdir -p "$state"

# Reads one field of the JSON on stdin (Node.js is already a prerequisite).
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v==null?v:v[k];console.log(v??"")})' "$1"; }
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
pids=()
cleanup() {
  # A second Ctrl+C (or a TERM from a wrapper) must not cut the cleanup short and leave Azurite running.
  trap '' INT TERM
  # Stop in reverse order (the host before Azurite), each given a few seconds to finish.
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    pid=${pids[i]}
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "Restoring and building (Release)"
{ [ -x node_modules/.bin/azurite ] && [ -f node_modules/uplot/package.json ]; } || npm ci --no-audit --no-fund --loglevel=error
dotnet build Serverless.sln -c Release -nologo -v quiet -clp:ErrorsOnly

if (exec 3<>/dev/tcp/127.0.0.1/10000) 2>/dev/null; then
  say "Azurite already listens on 127.0.0.1:10000; using it"
else
  say "Starting Azurite (data in .laptop/azurite, log in .laptop/azurite.log)"
  pids+=("$(scripts/azurite.sh 10000 10001 10002 "$state/azurite" "$state/azurite.log")")
fi

bin="$root/functions/Serverless.Laptop/bin/Release/net10.0"
trainer="$root/gpu-trainer/Serverless.Trainer/bin/Release/net10.0/Serverless.Trainer.dll"
export Training__DeepTrainerPath="$root/gpu-trainer/Serverless.Trainer.Deep/bin/Release/net10.0/Serverless.Trainer.Deep.dll"
# The deep trainer (mlp) needs libstdc++ with GLIBCXX_3.4.32. Where this system's is older and a
# Debian 13 root file system has been made (scripts/trixie-rootfs.sh, as root), it runs in that;
# otherwise an mlp run fails and says what is needed (README, "Deep models").
rootfs="${SERVERLESS_ROOTFS:-/var/cache/serverless-lifecycle/trixie}"
if [ -z "${Training__DeepTrainerLauncher__0:-}" ] && [ -f "$rootfs/.complete" ] && [ "$(id -u)" = 0 ]; then
  export Training__DeepTrainerLauncher__0="$root/scripts/rootfs-run.sh" Training__DeepTrainerLauncher__1="$rootfs" \
    Training__DeepTrainerLauncher__2="$(readlink -f "$(command -v dotnet)")"
  say "The deep trainer (mlp) runs in the root file system $rootfs"
fi
say "Starting the laptop host on $url (log in .laptop/host.log)"
Training__TrainerPath="$trainer" dotnet "$bin/Serverless.Laptop.dll" --contentRoot "$bin" --urls "$url" >"$state/host.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 120); do
  curl -fsS "$url/api/health" >/dev/null 2>&1 && break
  kill -0 "${pids[-1]}" 2>/dev/null || { cat "$state/host.log"; echo "The laptop host exited." >&2; exit 1; }
  sleep 0.5
done
curl -fsS "$url/api/health" >/dev/null || { echo "The laptop host did not answer on $url." >&2; exit 1; }

say "Registering the sample model (samples/churn/churn.spec.json)"
curl -fsS -X PUT "$url/api/models/churn" -H 'Content-Type: application/json' --data-binary @samples/churn/churn.spec.json >/dev/null

say "Uploading samples/churn/churn.csv, which starts a training run"
upload=$(curl -fsS -X POST "$url/api/models/churn/datasets" -H 'Content-Type: text/csv' --data-binary @samples/churn/churn.csv)
run_id=$(printf '%s' "$upload" | field runId)
echo "    run $run_id: $url/api/runs/$run_id"

status=""
for _ in $(seq 1 600); do
  run=$(curl -fsS "$url/api/runs/$run_id")
  status=$(printf '%s' "$run" | field status)
  case "$status" in pending|running|"") sleep 1 ;; *) break ;; esac
done
echo "    run finished: $status"
if [ "$status" != "succeeded" ]; then
  echo "$run"
  echo "The training run did not succeed; see .laptop/host.log." >&2
  exit 1
fi

version=$(curl -fsS "$url/api/models/churn" | field aliases.champion)
say "churn is served: champion = version $version"
cat <<EOT

Try a prediction:

  curl -s -X POST $url/api/models/churn/predict -H 'Content-Type: application/json' \\
    -d '{"instances":[{"tenure_months":3,"monthly_charges":95.5,"support_calls":4,"contract":"month-to-month","internet_service":"fiber","payment_method":"electronic-check"}]}'

Run status: curl -s $url/api/runs/$run_id
Dashboard:  $url/api/ui/   (models, runs, versions, drift; open it in a browser on this machine)
Serving until Ctrl+C.
EOT
wait "${pids[-1]}"
