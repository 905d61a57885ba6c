# Sourced by the benchmarks that need laptop mode (pipeline.sh, serving.sh): builds Release,
# starts Azurite and the laptop host on free loopback ports, and stops both on exit.
# Sets: root, work (a temporary folder), url (the host's base URL), pids. Extra environment for
# the host can be exported before calling start_laptop_host; upload_and_wait trains through it.
root="$(pwd)"
work="$(mktemp -d)"
pids=()
cleanup() {
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

build_release() {
  { [ -x node_modules/.bin/azurite ] && [ -f node_modules/uplot/package.json ]; } || npm ci --no-audit --no-fund --loglevel=error
  dotnet build Serverless.sln -c Release -nologo -v quiet -clp:ErrorsOnly
}

start_laptop_host() {
  read -r blob queue table host_port < <(node -e '
const net=require("net");const ports=[];let n=0;
for(let i=0;i<4;i++){const s=net.createServer();s.listen(0,"127.0.0.1",()=>{ports[i]=s.address().port;s.close(()=>{if(++n===4)console.log(ports.join(" "))})})}')
  pids+=("$(scripts/azurite.sh "$blob" "$queue" "$table" "$work/azurite" "$work/azurite.log")")
  # Azurite's fixed, publicly documented development account; it opens nothing but the emulator.
  local account=devstoreaccount1
  local key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
  export Storage__ConnectionString="DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$blob/$account;QueueEndpoint=http://127.0.0.1:$queue/$account;TableEndpoint=http://127.0.0.1:$table/$account;"
  export Training__TrainerPath="$root/gpu-trainer/Serverless.Trainer/bin/Release/net10.0/Serverless.Trainer.dll"
  url="http://127.0.0.1:$host_port"
  local bin="$root/functions/Serverless.Laptop/bin/Release/net10.0"
  dotnet "$bin/Serverless.Laptop.dll" --contentRoot "$bin" --urls "$url" >"$work/host.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 120); do curl -fsS "$url/api/health" >/dev/null 2>&1 && break; sleep 0.5; done
}

# Uploads a CSV to a registered model (which starts a training run) and waits for the run; fails
# unless it succeeds. upload_and_wait <model> <csv file>
upload_and_wait() {
  local run state
  run=$(curl -fsS -X POST "$url/api/models/$1/datasets" -H 'Content-Type: text/csv' --data-binary @"$2" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).statusUrl))')
  while :; do
    state=$(curl -fsS "$url$run" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status))')
    [ "$state" = pending ] || [ "$state" = running ] || break
    sleep 0.5
  done
  [ "$state" = succeeded ] || { echo "$1: run ended $state" >&2; exit 1; }
}
