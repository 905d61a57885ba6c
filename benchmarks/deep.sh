#!/usr/bin/env bash
# The deep model beside the trees (laptop mode): trains the sample churn spec on the same generated
# data with lightgbm (its defaults) and with mlp (its defaults, a fixed number of epochs), and reports
# from each version's model card the fit's training rows per second, the fit time, the test AUC and
# the gate's single-row ONNX Runtime latency (p99 over the test rows, one request at a time).
#   benchmarks/deep.sh [rows] [mlp epochs]   (defaults 200000 and 10)
# The deep trainer runs in the Debian 13 root file system (scripts/trixie-rootfs.sh; needs root)
# unless this system's libstdc++ is new enough, which the trainer then says by succeeding.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-200000}"
epochs="${2:-10}"
source benchmarks/laptop-host.sh
build_release
rootfs=$(scripts/trixie-rootfs.sh)
export Training__DeepTrainerPath="$root/gpu-trainer/Serverless.Trainer.Deep/bin/Release/net10.0/Serverless.Trainer.Deep.dll"
export Training__DeepTrainerLauncher__0="$root/scripts/rootfs-run.sh" Training__DeepTrainerLauncher__1="$rootfs" \
  Training__DeepTrainerLauncher__2="$(readlink -f "$(command -v dotnet)")"
start_laptop_host

echo "Generating $rows rows"
dotnet samples/churn/generator/bin/Release/net10.0/Serverless.Samples.Churn.dll --rows "$rows" --seed 5 --out "$work/data.csv"
printf '%-9s %12s %10s %8s %8s %14s  %s\n' algorithm "rows/s" "fit s" epochs "test auc" "p99 1-row ms" device
for algorithm in lightgbm mlp; do
  node -e '
const s=JSON.parse(require("fs").readFileSync("samples/churn/churn.spec.json","utf8"));
s.name="bench-"+process.argv[1];s.trainer.algorithm=process.argv[1];s.trainer.timeoutMinutes=120;
if(process.argv[1]==="mlp")s.trainer.hyperparameters={epochs:+process.argv[2],patience:0};
console.log(JSON.stringify(s))' "$algorithm" "$epochs" > "$work/spec.json"
  curl -fsS -X PUT "$url/api/models/bench-$algorithm" -H 'Content-Type: application/json' --data-binary @"$work/spec.json" >/dev/null
  upload=$(curl -fsS -X POST "$url/api/models/bench-$algorithm/datasets" -H 'Content-Type: text/csv' --data-binary @"$work/data.csv")
  run_id=$(printf '%s' "$upload" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).runId))')
  while :; do
    status=$(curl -fsS "$url/api/runs/$run_id" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status))')
    case "$status" in pending|running) sleep 2 ;; *) break ;; esac
  done
  if [ "$status" != succeeded ]; then curl -fsS "$url/api/runs/$run_id"; echo; tail -n 40 "$work/host.log"; exit 1; fi
  curl -fsS "$url/api/models/bench-$algorithm/versions/1" | node -e '
let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s).card;const t=c.lineage.trials[0];
const epochs=c.algorithm==="mlp"?String(c.hyperparameters.epochs):"-";
console.log([c.algorithm.padEnd(9),Math.round(c.trainingRowsPerSecond).toString().padStart(12),t.phaseSeconds.fit.toFixed(1).padStart(10),epochs.padStart(8),
c.testMetrics.auc.toFixed(4).padStart(8),c.lineage.latencyP99Ms.toFixed(3).padStart(14),"",c.device].join(" "))})'
done
