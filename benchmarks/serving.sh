#!/usr/bin/env bash
# Serving benchmarks, side by side in one run:
#  1. the scoring engine (OnnxModel) against raw ONNX Runtime with pre-allocated OrtValues, on the
#     sample churn model: single-row p50 and batch-1024 throughput;
#  2. HTTP in laptop mode with <connections> keep-alive connections for <seconds> each: a trivial
#     JSON echo route, then predict, then predict while champion moves 10 times between two versions.
#   benchmarks/serving.sh [seconds=15] [connections=16]
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
seconds="${1:-15}"
connections="${2:-16}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

[ -x node_modules/.bin/azurite ] || npm ci --no-audit --no-fund --loglevel=error
dotnet build Serverless.sln -c Release -nologo -v quiet -clp:ErrorsOnly
bench="dotnet benchmarks/Serverless.Benchmarks.Serving/bin/Release/net10.0/Serverless.Benchmarks.Serving.dll"

echo "Engine (sample churn model, 5 rounds, medians):"
$bench engine

read -r blob queue table host_port < <(node -e '
const net=require("net");const ports=[];let n=0;
for(let i=0;i<4;i++){const s=net.createServer();s.listen(0,"127.0.0.1",()=>{ports[i]=s.address().port;s.close(()=>{if(++n===4)console.log(ports.join(" "))})})}')
pids+=("$(scripts/azurite.sh "$blob" "$queue" "$table" "$work/azurite" "$work/azurite.log")")
account=devstoreaccount1
key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
export Storage__ConnectionString="DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$blob/$account;QueueEndpoint=http://127.0.0.1:$queue/$account;TableEndpoint=http://127.0.0.1:$table/$account;"
export Training__TrainerPath="$root/gpu-trainer/Serverless.Trainer/bin/Release/net10.0/Serverless.Trainer.dll"
export Laptop__EchoRoute=true Logging__LogLevel__Default=Warning
url="http://127.0.0.1:$host_port"
bin="$root/functions/Serverless.Laptop/bin/Release/net10.0"
dotnet "$bin/Serverless.Laptop.dll" --contentRoot "$bin" --urls "$url" >"$work/host.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 120); do curl -fsS "$url/api/health" >/dev/null 2>&1 && break; sleep 0.5; done

# Two versions of the sample model, so the alias can move between them.
curl -fsS -X PUT "$url/api/models/churn" -H 'Content-Type: application/json' --data-binary @samples/churn/churn.spec.json >/dev/null
for seed in 5 6; do
  dotnet samples/churn/generator/bin/Release/net10.0/Serverless.Samples.Churn.dll --rows 4000 --seed "$seed" --out "$work/data.csv"
  run=$(curl -fsS -X POST "$url/api/models/churn/datasets" -H 'Content-Type: text/csv' --data-binary @"$work/data.csv" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).statusUrl))')
  while :; do
    state=$(curl -fsS "$url$run" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status))')
    [ "$state" = pending ] || [ "$state" = running ] || break
    sleep 0.5
  done
  [ "$state" = succeeded ] || { echo "run ended $state"; exit 1; }
done

echo
echo "HTTP in laptop mode ($seconds s each, $connections keep-alive connections):"
echo "| route | connections | requests/s | p50 (ms) | p99 (ms) | failed | note |"
echo "|---|---|---|---|---|---|---|"
$bench http "$url" churn "$seconds" "$connections" echo
$bench http "$url" churn "$seconds" "$connections" predict
$bench http "$url" churn "$seconds" "$connections" moves
