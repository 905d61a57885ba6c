#!/usr/bin/env bash
# Drift benchmark: the monitor's drift report over ROWS logged predictions x 20 numeric features
# (JSON lines as the prediction log writes them, 10,000 per file), beside scipy's ks_2samp plus a
# numpy histogram PSI on the same files (Debian's python3-scipy). Generates the data once.
# Prints a markdown table of time and memory, then the statistics side by side.
# Usage: benchmarks/drift.sh [ROWS=10000000] [DIR=/tmp/serverless-drift-ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
dir=${2:-/tmp/serverless-drift-$rows}
dotnet build benchmarks/Serverless.Benchmarks -c Release -nologo -v quiet -clp:"ErrorsOnly;NoSummary" >&2
bench="dotnet benchmarks/Serverless.Benchmarks/bin/Release/net10.0/Serverless.Benchmarks.dll"
[ -f "$dir/profile.json" ] || $bench drift-generate "$rows" "$dir"

echo "| tool | rows | seconds | of which statistics | rows/s | peak RSS (MB) |"
echo "|---|---|---|---|---|---|"
row() { awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6}'; }
# Concurrent workstation GC: what the Functions worker and the laptop host run with.
DOTNET_gcConcurrent=1 $bench drift "$dir" 2> "$dir/product.tsv" | row
if /usr/bin/python3 -c 'import scipy, pandas' 2>/dev/null; then
  /usr/bin/python3 benchmarks/scipy_drift.py "$dir" 2> "$dir/scipy.tsv" | row
else
  echo "| scipy | (apt-get install python3-scipy python3-pandas to compare) | | | | |"
  exit 0
fi

echo
echo "| feature | KS D product (5,000-row sample) | KS D scipy (all rows) | PSI product | PSI scipy | drifted product (KS, PSI) | drifted scipy (KS, PSI) |"
echo "|---|---|---|---|---|---|---|"
paste "$dir/product.tsv" "$dir/scipy.tsv" | awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s, %s | %s, %s |\n", $1, $2, $8, $4, $10, $5, $6, $11, $12}'
