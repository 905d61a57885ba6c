#!/usr/bin/python3
"""An example of the trainer contract in another language: trains a binary model with scikit-learn's
logistic regression and writes it as ONNX with the `onnx` package. It is an example, not a dependency
of the product; the README's "Bring your own trainer" has the contract as a table.

    train.py --job runs/{run}/jobs/{job}/job.json     (or TRAINER_JOB)

Storage comes from the environment, as the product passes it: Storage__ConnectionString (laptop mode,
Azurite), or Storage__BlobServiceUri with the managed identity Storage__ManagedIdentityClientId (Azure).
It reads job.json, the training and validation splits it names, and writes model.onnx and result.json
under the job's folder, once: a job that already has a result is not trained again. It posts the job's
end to the callback URL when the job names one. Exit codes: 0 trained; 1 the job failed (result.json
says why); 2 no job or no storage settings; 3 storage failed (start the job again).

Hyperparameters (the spec's trainer.hyperparameters): C (inverse regularisation, default 1.0) and
max_iter (default 1000). Needs the Debian packages python3-sklearn, python3-onnx and python3-azure.
"""
import csv
import hashlib
import io
import json
import math
import os
import platform
import sys
import time
import urllib.request

import numpy as np
from sklearn import metrics
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_export  # noqa: E402

TRAINER_VERSION = "sklearn-example 1.0 (scikit-learn %s)" % __import__("sklearn").__version__


class JobFailed(Exception):
    """The job cannot be trained: reported in result.json, exit code 1."""


def job_path(argv):
    if "--job" in argv and argv.index("--job") + 1 < len(argv):
        return argv[argv.index("--job") + 1]
    return os.environ.get("TRAINER_JOB")


def blob_service():
    from azure.storage.blob import BlobServiceClient

    if os.environ.get("Storage__ConnectionString"):
        return BlobServiceClient.from_connection_string(os.environ["Storage__ConnectionString"])
    if os.environ.get("Storage__BlobServiceUri"):
        from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

        client_id = os.environ.get("Storage__ManagedIdentityClientId")
        credential = ManagedIdentityCredential(client_id=client_id) if client_id else DefaultAzureCredential()
        return BlobServiceClient(os.environ["Storage__BlobServiceUri"], credential=credential)
    return None


def blob(service, path):
    container, _, name = path.partition("/")
    return service.get_blob_client(container, name)


def read_csv(service, path):
    text = blob(service, path).download_blob().readall().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def binary(value, where):
    text = (value or "").strip().lower()
    if text in ("1", "true"):
        return 1
    if text in ("0", "false"):
        return 0
    raise JobFailed(f"{where}: the label '{value}' is not 0/1 or true/false")


def train(service, job):
    model_spec = job["model"]
    if model_spec["task"] != "binary":
        raise JobFailed(f"this example trains binary models; the spec's task is {model_spec['task']}")
    label = model_spec["label"]
    numeric = [f["name"] for f in model_spec["features"] if f["type"] == "numeric"]
    train_rows = read_csv(service, job["trainPath"])
    validation_rows = read_csv(service, job["validationPath"])
    if not train_rows or label not in train_rows[0]:
        raise JobFailed(f"the training split has no '{label}' column (the label)")
    categories = {}
    for f in model_spec["features"]:
        if f["type"] == "categorical":
            categories[f["name"]] = f.get("categories") or sorted({r[f["name"]] for r in train_rows if r.get(f["name"])})

    x, means, stds = onnx_export.prepare(train_rows, numeric, categories)
    y = np.array([binary(r[label], "training split") for r in train_rows])
    if len(set(y)) < 2:
        raise JobFailed("the training split has one class only")
    hyper = job.get("hyperparameters") or {}
    model = LogisticRegression(C=float(hyper.get("C", 1.0)), max_iter=int(hyper.get("max_iter", 1000)), random_state=job.get("seed", 42))
    model.fit(x, y)

    xv, _, _ = onnx_export.prepare(validation_rows, numeric, categories, means, stds)
    yv = np.array([binary(r[label], "validation split") for r in validation_rows])
    p = model.predict_proba(xv)[:, 1]
    predicted = (p > 0.5).astype(int)
    validation_metrics = {
        "auc": float(metrics.roc_auc_score(yv, p)),
        "accuracy": float(metrics.accuracy_score(yv, predicted)),
        "f1": float(metrics.f1_score(yv, predicted, zero_division=0)),
        "logLoss": float(metrics.log_loss(yv, p, labels=[0, 1]) / math.log(2)),  # in bits, as the product reports it
    }
    graph = onnx_export.graph(numeric, categories, means, stds, model, model_spec["name"].replace("-", "_"), "scikit-learn (samples/trainers/sklearn)",
                              onnx_export.product_metadata("binary"))
    return graph.SerializeToString(), validation_metrics


def notify(job, state):
    url = job.get("callbackUrl")
    if not url:
        return
    headers = {"Content-Type": "application/json"}
    if job.get("callbackAudience"):
        try:
            from azure.identity import ManagedIdentityCredential

            token = ManagedIdentityCredential(client_id=os.environ.get("Storage__ManagedIdentityClientId")).get_token(job["callbackAudience"] + "/.default")
            headers["Authorization"] = "Bearer " + token.token
        except Exception as e:  # the pipeline also checks the job's status itself
            print(f"no token for the callback: {e}", file=sys.stderr)
            return
    body = json.dumps({"runId": job["runId"], "jobId": job["jobId"], "state": state}).encode()
    try:
        urllib.request.urlopen(urllib.request.Request(url, body, headers, method="POST"), timeout=30).read()
    except Exception as e:  # the pipeline also checks the job's status itself
        print(f"callback to {url} failed: {e}", file=sys.stderr)


def main(argv):
    path = job_path(argv)
    if not path:
        print("usage: train.py --job <container/path/to/job.json>  (or TRAINER_JOB); storage from Storage__ConnectionString "
              "or Storage__BlobServiceUri", file=sys.stderr)
        return 2
    service = blob_service()
    if service is None:
        print("no storage settings: set Storage__ConnectionString or Storage__BlobServiceUri", file=sys.stderr)
        return 2

    from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError

    try:
        job = json.loads(blob(service, path).download_blob().readall())
        folder = path.split("/", 1)[0] + "/" + job["outputPrefix"]
        result_blob = blob(service, folder + "result.json")
        if result_blob.exists():
            existing = json.loads(result_blob.download_blob().readall())
            print(f"job {job['jobId']} already has a result ({existing['state']}); not training again")
            notify(job, existing["state"])
            return 0 if existing["state"] == "succeeded" else 1

        started = time.monotonic()
        result = {
            "jobId": job["jobId"], "validationMetrics": {}, "artifacts": [], "durationSeconds": 0.0,
            "hardware": f"{platform.machine()}, {os.cpu_count()} cores", "trainerVersion": TRAINER_VERSION,
            "algorithm": job["algorithm"], "hyperparameters": job.get("hyperparameters") or {}, "seed": job.get("seed"), "device": "cpu",
        }
        try:
            onnx_bytes, validation_metrics = train(service, job)
            model_path = folder + "model.onnx"
            blob(service, model_path).upload_blob(onnx_bytes, overwrite=True)
            result.update(state="succeeded", validationMetrics=validation_metrics, artifacts=[{
                "name": "model.onnx", "path": model_path, "sha256": hashlib.sha256(onnx_bytes).hexdigest(), "sizeBytes": len(onnx_bytes)}])
        except (JobFailed, ValueError, KeyError) as e:
            result.update(state="failed", error=f"{type(e).__name__}: {e}")
        result["durationSeconds"] = time.monotonic() - started
        try:
            result_blob.upload_blob(json.dumps(result), overwrite=False)
        except ResourceExistsError:
            result = json.loads(result_blob.download_blob().readall())  # another start wrote it first: that one counts
        print(f"job {job['jobId']}: {result['state']} in {result['durationSeconds']:.1f} s" + (f": {result['error']}" if result.get("error") else ""))
        notify(job, result["state"])
        return 0 if result["state"] == "succeeded" else 1
    except (ResourceNotFoundError, AzureError) as e:
        print(f"storage error: {e}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
