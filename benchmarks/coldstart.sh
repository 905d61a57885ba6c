#!/usr/bin/env bash
# Cold start in laptop mode: the sample churn model and a 1,000-tree GBDT are trained through a
# laptop host, which then stops; for each, a fresh host process is started and timed to /api/health
# and to its first prediction, with the load phases it reports (GET /api/status), against session
# creation and warm-up alone in a fresh process.
#   benchmarks/coldstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/laptop-host.sh
build_release
export Logging__LogLevel__Default=Warning
start_laptop_host
train() { # model, spec file
  curl -fsS -X PUT "$url/api/models/$1" -H 'Content-Type: application/json' --data-binary @"$2" >/dev/null
  upload_and_wait "$1" samples/churn/churn.csv
}
train churn samples/churn/churn.spec.json
node -e 'const s=require("./samples/churn/churn.spec.json");s.name="churn-gbdt1000";s.trainer.hyperparameters={numberOfIterations:1000,numberOfLeaves:31};s.evaluation.gate.thresholds=[];console.log(JSON.stringify(s))' > "$work/gbdt.json"
train churn-gbdt1000 "$work/gbdt.json"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
echo "Cold start (a fresh laptop host per model):"
dotnet benchmarks/Serverless.Benchmarks.Serving/bin/Release/net10.0/Serverless.Benchmarks.Serving.dll coldstart \
  "$root/functions/Serverless.Laptop/bin/Release/net10.0/Serverless.Laptop.dll" "$Storage__ConnectionString" churn churn-gbdt1000
