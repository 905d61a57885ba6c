"""Peer in the validation benchmark: pandas read_csv followed by describe() on the same file.

Run with Debian's interpreter (python3-pandas is a Debian package, not a product dependency):
    /usr/bin/python3 benchmarks/pandas_profile.py FILE
Prints: mode, rows, seconds, MB/s, peak RSS in MB.
"""
import os
import resource
import sys
import time

import pandas as pd

path = sys.argv[1]
start = time.perf_counter()
frame = pd.read_csv(path)
summary = frame.describe(include="all", percentiles=[0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
elapsed = time.perf_counter() - start
megabytes = os.path.getsize(path) / 1e6
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
assert summary.shape[1] == frame.shape[1]
print(f"pandas\t{len(frame)}\t{elapsed:.2f}\t{megabytes / elapsed:.1f}\t{peak_mb:.0f}")
