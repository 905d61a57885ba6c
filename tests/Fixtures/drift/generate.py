"""Reference values for the drift statistics, computed with scipy and numpy (Debian's python3-scipy).

Run with Debian's interpreter: /usr/bin/python3 tests/Fixtures/drift/generate.py > tests/Fixtures/drift/reference.json
The output is committed; DriftStatisticsReferenceTests compares the product's statistics with it
(statistics to 1e-6, p-values to 1e-4). The product never depends on Python.
"""
import json

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

rng = np.random.default_rng(20261126)


def numeric_case(name, a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ks = stats.ks_2samp(a, b)
    n, m = len(a), len(b)
    en = n * m / (n + m)
    return {
        "name": name,
        "baseline": a.tolist(),
        "current": b.tolist(),
        "ksStatistic": float(ks.statistic),
        # The asymptotic Kolmogorov distribution at sqrt(n m / (n + m)) D, which the product uses.
        "ksPValue": float(stats.kstwobign.sf(np.sqrt(en) * ks.statistic)),
        "wasserstein": float(stats.wasserstein_distance(a, b)),
    }


def categorical_case(name, baseline, current):
    baseline = np.asarray(baseline, dtype=float)
    current = np.asarray(current, dtype=float)
    keep = (baseline + current) > 0
    table = np.vstack([baseline[keep], current[keep]])
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    return {
        "name": name,
        "baseline": baseline.astype(int).tolist(),
        "current": current.astype(int).tolist(),
        "chiSquare": float(chi2),
        "chiSquarePValue": float(p),
        "degreesOfFreedom": int(dof),
        "jensenShannon": float(distance.jensenshannon(baseline, current)),
    }


numeric = [
    numeric_case("normal vs shifted normal", rng.normal(0, 1, 500), rng.normal(0.3, 1.1, 400)),
    numeric_case("same distribution", rng.normal(10, 2, 800), rng.normal(10, 2, 700)),
    numeric_case("ties: small integers", rng.integers(0, 6, 300), rng.integers(1, 7, 250)),
    numeric_case("tiny samples", [1.0, 2.5, 3.0], [2.0, 2.5, 4.0, 8.0]),
    numeric_case("one value each side", [5.0], [7.0]),
    numeric_case("identical samples", [1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 2.0, 3.0]),
    numeric_case("constant baseline", [4.0] * 50, rng.normal(4, 1, 60)),
    numeric_case("heavy tail", rng.lognormal(0, 1, 2000), rng.lognormal(0.1, 1.2, 1500)),
]

categorical = [
    categorical_case("stable categories", [400, 300, 200, 100], [390, 310, 190, 110]),
    categorical_case("shifted categories", [400, 300, 200, 100], [200, 300, 300, 200]),
    categorical_case("unseen category in current", [500, 500, 0], [450, 450, 100]),
    categorical_case("category gone from current", [300, 300, 400], [500, 500, 0]),
    categorical_case("empty bins on both sides", [10, 0, 20, 0, 5], [12, 0, 15, 0, 9]),
    categorical_case("tiny counts", [1, 2], [2, 1]),
]

print(json.dumps({"scipy": scipy.__version__, "numpy": np.__version__, "numeric": numeric, "categorical": categorical}, indent=1))
