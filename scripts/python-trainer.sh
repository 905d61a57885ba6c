#!/usr/bin/env bash
# Prints the Python interpreter the example trainer (samples/trainers/sklearn) runs with: Debian's
# /usr/bin/python3 with scikit-learn, onnx and the Azure SDK, installed with apt-get when missing and
# running as root. The product does not need them; the example trainer and its tests do.
set -euo pipefail
python=/usr/bin/python3
have() { "$python" -c 'import sklearn, onnx, azure.storage.blob, azure.identity' >/dev/null 2>&1; }
if [ -x "$python" ] && have; then echo "$python"; exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "python-trainer: $python lacks scikit-learn, onnx or the Azure SDK; install them (Debian: apt-get install python3-sklearn python3-onnx python3-azure)" >&2
  exit 1
fi
exec 9>/tmp/serverless-lifecycle-python.lock
flock 9
if ! have; then
  echo "python-trainer: installing python3-sklearn python3-onnx python3-azure" >&2
  packages="python3-sklearn python3-onnx python3-azure"
  (apt-get install -y -q $packages >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q $packages >/dev/null; }) \
    || { echo "python-trainer: apt-get could not install $packages" >&2; exit 1; }
fi
have || { echo "python-trainer: $python still lacks a module after installing" >&2; exit 1; }
echo "$python"
