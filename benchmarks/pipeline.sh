#!/usr/bin/env bash
# Pipeline overhead benchmark (laptop mode): one run on a generated churn dataset of <rows> rows
# (default 1,000,000), and how its wall time splits between the trainer's own training and
# everything else (orchestration, dispatch, blob transfer, validation, evaluation, registration).
#   benchmarks/pipeline.sh [rows] [numberOfIterations]   (default 120)
# It ends with the validate step's parts measured alone on the same Azurite (data-pass).
# The figures in docs/benchmarks.md were taken with these LightGBM hyperparameters (16 leaves,
# 120 iterations, learning rate 0.05, 20 rows per leaf): the product's defaults, which the sample
# spec once set itself. They are set here so a change of defaults does not change the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
source benchmarks/laptop-host.sh
build_release
start_laptop_host

echo "Generating $rows rows"
dotnet samples/churn/generator/bin/Release/net10.0/Serverless.Samples.Churn.dll --rows "$rows" --seed 5 --out "$work/data.csv"
node -e 'const s=JSON.parse(require("fs").readFileSync("samples/churn/churn.spec.json","utf8"));s.trainer.hyperparameters={numberOfLeaves:16,numberOfIterations:+(process.argv[1]||120),learningRate:0.05,minimumExampleCountPerLeaf:20};s.trainer.timeoutMinutes=120;console.log(JSON.stringify(s))' "${2:-}" > "$work/spec.json"
curl -fsS -X PUT "$url/api/models/churn" -H 'Content-Type: application/json' --data-binary @"$work/spec.json" >/dev/null
start=$(date +%s.%N)
upload=$(curl -fsS -X POST "$url/api/models/churn/datasets" -H 'Content-Type: text/csv' --data-binary @"$work/data.csv")
run_id=$(printf '%s' "$upload" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).runId))')
while :; do
  status=$(curl -fsS "$url/api/runs/$run_id")
  state=$(printf '%s' "$status" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status))')
  [ "$state" = pending ] || [ "$state" = running ] || break
  sleep 0.5
done
end=$(date +%s.%N)
printf "%s" "$status" > "$work/run.json"
grep -q "\"status\":\"succeeded\"" "$work/run.json" || grep -E "Unhandled|Exception|stderr" "$work/host.log" | head -20
node - "$work/run.json" "$start" "$end" "$(stat -c %s "$work/data.csv")" <<'JS'
const fs=require("fs");const run=JSON.parse(fs.readFileSync(process.argv[2],"utf8"));
const wall=process.argv[4]-process.argv[3];const mb=(process.argv[5]/1e6).toFixed(0);
const sec=s=>(new Date(s.completedAt)-new Date(s.startedAt))/1000;
console.log(`run ${run.runId}: ${run.status}, ${run.dataset.sizeBytes} bytes (${mb} MB)`);
if(run.status!=="succeeded"){console.log(JSON.stringify(run,null,1));process.exit(1);}
console.log("| part | seconds | share of wall time |\n|---|---|---|");
const row=(name,s)=>console.log(`| ${name} | ${s.toFixed(2)} | ${(100*s/wall).toFixed(1)}% |`);
const stepsTotal=run.steps.reduce((a,s)=>a+sec(s),0);
row("upload (HTTP to blob, SHA-256) and run start",wall-stepsTotal);
const trial=run.trials[0];const phases=trial.phaseSeconds||{};const fit=phases.fit||0;
for(const s of run.steps){
  if(s.name!=="train"){row(s.name,sec(s));continue;}
  const inTrainer=Object.values(phases).reduce((a,b)=>a+b,0);
  row("train: dispatch, process start, callback",sec(s)-inTrainer);
  for(const [p,v] of Object.entries(phases)) row(`train: trainer ${p}`,v);
}
row("**all but the trainer's fit**",wall-fit);
console.log(`| **wall time** | ${wall.toFixed(2)} | 100% |`);
JS
# What the validate step is made of on this emulator: the file's bytes in and out of Azurite alone,
# the one pass (validation, profile, SHA-256, split) reading from a blob, and the partitions' upload.
dotnet benchmarks/Serverless.Benchmarks.Serving/bin/Release/net10.0/Serverless.Benchmarks.Serving.dll data-pass "$Storage__ConnectionString" "$work/data.csv" "$work/spec.json"
