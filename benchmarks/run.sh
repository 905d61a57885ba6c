#!/usr/bin/env bash
# Dataset validation benchmark: generates CSVs of ROWS and 4 x ROWS rows (20 columns), then
# measures, each in its own process, Sep parse-only (tokens, and typed values), the product's validation + profiling, and
# pandas read_csv + describe() (on the smaller file). Prints one markdown table row per run.
# Usage: benchmarks/run.sh [ROWS=10000000] [DIR=/tmp/serverless-bench]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
dir=${2:-/tmp/serverless-bench}
mkdir -p "$dir"
dotnet build benchmarks/Serverless.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly >&2
bench="dotnet benchmarks/Serverless.Benchmarks/bin/Release/net10.0/Serverless.Benchmarks.dll"
small="$dir/bench-$rows.csv"
large="$dir/bench-$((rows * 4)).csv"
[ -f "$small" ] || $bench generate "$rows" "$small"
[ -f "$large" ] || $bench generate "$((rows * 4))" "$large"

echo "| file | tool | rows | seconds | MB/s | peak RSS (MB) |"
echo "|---|---|---|---|---|---|"
row() { awk -v f="$1" -F'\t' '{printf "| %s | %s | %s | %s | %s | %s |\n", f, $1, $2, $3, $4, $5}'; }
size() { echo "$(( $(stat -c %s "$1") / 1000000 )) MB"; }
$bench parse "$small" | row "$(size "$small")"
$bench parse-typed "$small" | row "$(size "$small")"
$bench validate "$small" | row "$(size "$small")"
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import pandas' 2>/dev/null; then
  /usr/bin/python3 benchmarks/pandas_profile.py "$small" | row "$(size "$small")"
else
  echo "| $(size "$small") | pandas | (apt-get install python3-pandas to compare) | | | |"
fi
$bench parse "$large" | row "$(size "$large")"
$bench validate "$large" | row "$(size "$large")"
