#!/usr/bin/env bash
# Batch scoring in laptop mode: the sample churn model trained by the host, then a generated CSV of
# <rows> uploaded to batch-input/churn/ and scored by the host's poller into batch-output/, against raw
# ONNX Runtime's Run on the same rows (tensors made beforehand, same session options).
#   benchmarks/batch.sh [rows=1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
source benchmarks/laptop-host.sh
build_release
export BatchScoring__PollInterval=00:00:00.2 Logging__LogLevel__Default=Warning
start_laptop_host
curl -fsS -X PUT "$url/api/models/churn" -H 'Content-Type: application/json' --data-binary @samples/churn/churn.spec.json >/dev/null
upload_and_wait churn samples/churn/churn.csv
echo "Batch scoring, $rows rows:"
dotnet benchmarks/Serverless.Benchmarks.Serving/bin/Release/net10.0/Serverless.Benchmarks.Serving.dll batch "$url" churn "$rows" "$Storage__ConnectionString"
