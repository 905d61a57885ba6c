#!/usr/bin/env bash
# The trainer conformance kit (README, "Bring your own trainer"): builds the product, uses the Azurite
# that listens on 127.0.0.1:10000-10002 (./run.sh's) or starts one for this run, and runs the laptop
# program's trainer-conformance command with the arguments given, from the directory it is called in:
#   scripts/trainer-conformance.sh --spec samples/trainers/sklearn/churn.spec.json -- /usr/bin/python3 samples/trainers/sklearn/train.py
# From the repository root the defaults (--spec, --data) find the sample. Exit code: the command's.
set -euo pipefail
here="$(pwd)"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
azurite_pid=""
cleanup() {
  if [ -n "$azurite_pid" ]; then kill "$azurite_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$root"
{ [ -x node_modules/.bin/azurite ] && [ -f node_modules/uplot/package.json ]; } || npm ci --no-audit --no-fund --loglevel=error >&2
dotnet build Serverless.sln -c Release -nologo -v quiet -clp:ErrorsOnly >&2
if ! (exec 3<>/dev/tcp/127.0.0.1/10000) 2>/dev/null; then
  azurite_pid=$(scripts/azurite.sh 10000 10001 10002 "$work/azurite" "$work/azurite.log")
fi
cd "$here"
status=0
dotnet "$root/functions/Serverless.Laptop/bin/Release/net10.0/Serverless.Laptop.dll" trainer-conformance "$@" || status=$?
exit $status
