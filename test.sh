#!/usr/bin/env bash
# Runs every test from a fresh clone: restores packages, installs Azurite from the pinned npm
# dependency, starts it on free loopback ports, runs the tests, stops Azurite, and ends with
# the runner's summary line. Extra arguments go to `dotnet test` (for example --filter ...).
set -uo pipefail
cd "$(dirname "$0")"
root="$(pwd)"
work="$(mktemp -d)"
azurite_pid=""
cleanup() {
  if [ -n "$azurite_pid" ] && kill "$azurite_pid" 2>/dev/null; then
    for _ in $(seq 1 30); do kill -0 "$azurite_pid" 2>/dev/null || break; sleep 0.1; done
    # Azurite can linger on open keep-alive connections; its data is throwaway here.
    kill -9 "$azurite_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

{ [ -x node_modules/.bin/azurite ] && [ -f node_modules/uplot/package.json ]; } || npm ci --no-audit --no-fund --loglevel=error || exit 1

# Three free loopback ports, chosen by the OS.
read -r blob queue table < <(node -e '
const net=require("net");const ports=[];let n=0;
for(let i=0;i<3;i++){const s=net.createServer();s.listen(0,"127.0.0.1",()=>{ports[i]=s.address().port;s.close(()=>{if(++n===3)console.log(ports.join(" "))})})}')
azurite_pid=$(scripts/azurite.sh "$blob" "$queue" "$table" "$work/azurite" "$work/azurite.log") || exit 1

# Azurite's account name and key are the emulator's fixed, publicly documented development
# credentials; they open nothing but this local emulator.
account=devstoreaccount1
key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
export AZURITE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$blob/$account;QueueEndpoint=http://127.0.0.1:$queue/$account;TableEndpoint=http://127.0.0.1:$table/$account;"
export Logging__LogLevel__Default=Warning
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build Serverless.sln -c Release -nologo -v quiet -clp:ErrorsOnly || exit 1
dotnet test Serverless.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$work/results" "$@"
status=$?

# The failed tests with their messages (the console log scrolls them away), then one summary over
# every test project, from the TRX files, as the last line.
node -e '
const fs=require("fs"),path=require("path");let passed=0,failed=0,skipped=0,total=0;const failures=[];
const unescape=s=>s.replace(/&lt;/g,"<").replace(/&gt;/g,">").replace(/&quot;/g,"\"").replace(/&apos;/g,"\x27").replace(/&amp;/g,"&");
for(const f of fs.readdirSync(process.argv[1]).filter(f=>f.endsWith(".trx"))){
  const trx=fs.readFileSync(path.join(process.argv[1],f),"utf8");
  const m=/<Counters total="(\d+)" executed="(\d+)" passed="(\d+)" failed="(\d+)"[^>]*notExecuted="(\d+)"/.exec(trx);
  if(m){total+=+m[1];passed+=+m[3];failed+=+m[4];skipped+=+m[5];}
  for(const r of trx.matchAll(/<UnitTestResult [^>]*testName="([^"]*)"[^>]*outcome="Failed"[^>]*>([\s\S]*?)<\/UnitTestResult>/g)){
    const message=/<Message>([\s\S]*?)<\/Message>/.exec(r[2]);
    const stack=/<StackTrace>([\s\S]*?)<\/StackTrace>/.exec(r[2]);
    failures.push(`FAILED ${unescape(r[1])}\n${message?unescape(message[1]):""}\n${stack?unescape(stack[1]).split("\n").slice(0,8).join("\n"):""}`);
  }
}
for(const f of failures)console.log(f+"\n");
if(total===0){console.log("No test ran.");process.exit(1)}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);' "$work/results" || status=1
exit $status
