"""Peer in the drift benchmark: scipy's ks_2samp and a numpy histogram PSI on the same files.

Run with Debian's interpreter (python3-scipy is a Debian package, not a product dependency):
    /usr/bin/python3 benchmarks/scipy_drift.py DIR
DIR is what `Serverless.Benchmarks drift-generate` wrote: train.csv (the training data),
profile.json (its histogram edges, which both sides bin on) and log/*.jsonl (the logged
predictions). The peer reads the log a file at a time into float64 columns (json.loads per
line, the standard library's C parser), then runs, per feature, ks_2samp of the whole window
against the whole training column and PSI over the profile's bins (numpy.searchsorted +
bincount: what numpy.histogram does for uneven edges, with the product's right-closed bins).

Prints one tab-separated line: tool, rows, seconds, seconds on the statistics, rows/s, peak
RSS in MB. Per feature on stderr: KS statistic and p-value, PSI, and whether each drifted
under the product's default thresholds (p < 0.01, PSI > 0.2).
"""
import glob
import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats

EPSILON = 1e-4  # the product's DriftStatistics.PsiEpsilon

folder = sys.argv[1]
with open(os.path.join(folder, "profile.json"), encoding="utf-8") as f:
    profile = json.load(f)
names = sorted(profile["features"])
training = pd.read_csv(os.path.join(folder, "train.csv"), usecols=names)

start = time.perf_counter()
chunks = []
for path in sorted(glob.glob(os.path.join(folder, "log", "*.jsonl"))):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            inputs = json.loads(line)["inputs"]
            rows.append([inputs.get(n, np.nan) for n in names])
    chunks.append(np.array(rows, dtype=np.float64))
window = np.concatenate(chunks)
del chunks
read = time.perf_counter()


def shares(values, edges):
    counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)
    return np.maximum(counts / counts.sum(), EPSILON)


results = []
for k, name in enumerate(names):
    current = window[:, k]
    current = current[~np.isnan(current)]
    baseline = training[name].to_numpy()
    ks = stats.ks_2samp(baseline, current)
    edges = np.asarray(profile["features"][name]["numeric"]["histogram"]["edges"])
    expected, actual = shares(baseline, edges), shares(current, edges)
    psi = float(np.sum((actual - expected) * np.log(actual / expected)))
    results.append((name, ks.statistic, ks.pvalue, psi))
end = time.perf_counter()

peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"scipy\t{len(window)}\t{end - start:.2f}\t{end - read:.2f}\t{len(window) / (end - start):.0f}\t{peak_mb:.0f}")
for name, d, p, psi in results:
    print(f"{name}\t{d:.4f}\t{p:.3g}\t{psi:.6f}\t{p < 0.01}\t{psi > 0.2}", file=sys.stderr)
