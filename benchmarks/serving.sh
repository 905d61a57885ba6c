#!/usr/bin/env bash
# Serving benchmarks, side by side in one run:
#  1. the scoring engine (OnnxModel) against raw ONNX Runtime with pre-allocated OrtValues, on the
#     sample churn model: single-row p50 and batch-1024 throughput;
#  2. HTTP in laptop mode with <connections> keep-alive connections for <seconds> each: a trivial
#     JSON echo route, then predict, then predict while champion moves 10 times between two versions.
#   benchmarks/serving.sh [seconds=15] [connections=16]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"
connections="${2:-16}"
source benchmarks/laptop-host.sh
build_release
bench="dotnet benchmarks/Serverless.Benchmarks.Serving/bin/Release/net10.0/Serverless.Benchmarks.Serving.dll"

echo "Engine (sample churn model, 5 rounds, medians):"
$bench engine

export Laptop__EchoRoute=true Logging__LogLevel__Default=Warning
start_laptop_host

# Two versions of the sample model, so the alias can move between them.
curl -fsS -X PUT "$url/api/models/churn" -H 'Content-Type: application/json' --data-binary @samples/churn/churn.spec.json >/dev/null
for seed in 5 6; do
  dotnet samples/churn/generator/bin/Release/net10.0/Serverless.Samples.Churn.dll --rows 4000 --seed "$seed" --out "$work/data.csv"
  upload_and_wait churn "$work/data.csv"
done

echo
echo "HTTP in laptop mode ($seconds s each, $connections keep-alive connections):"
echo "| route | connections | requests/s | p50 (ms) | p99 (ms) | failed | note |"
echo "|---|---|---|---|---|---|---|"
$bench http "$url" churn "$seconds" "$connections" echo
$bench http "$url" churn "$seconds" "$connections" predict
$bench http "$url" churn "$seconds" "$connections" moves
