#!/usr/bin/python3
"""Makes churn-sklearn.onnx: the sample churn model trained outside the product, the way a team that
trains in Python would bring one. scikit-learn fits a logistic regression on samples/churn/churn.csv
(mean imputation, standard scaling, one-hot categories); samples/trainers/sklearn/onnx_export.py writes
the graph with the `onnx` package, with the shapes scikit-learn's converter gives with zipmap=False:
`output_label` (int64, [N]) and `output_probability` (float, [N, 2]), and no output map (the import
names it). Each feature is its own [N, 1] input. Deterministic: the same data gives the same bytes.

    /usr/bin/python3 tests/Fixtures/imported/make_churn_sklearn.py            # rewrites the fixture
    /usr/bin/python3 tests/Fixtures/imported/make_churn_sklearn.py --mismatch  # churn-mismatch.onnx

It also writes churn-sklearn.expected.csv: scikit-learn's own probabilities for the first 20 rows.
The mismatched graph (for the refusal test) has a misspelt input, a numeric input fed as int64 and a
probability output that is a ZipMap sequence of maps.
Needs the Debian packages python3-sklearn and python3-onnx.
"""
import csv
import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "samples", "trainers", "sklearn"))
import onnx_export  # noqa: E402

NUMERIC = ["tenure_months", "monthly_charges", "support_calls"]
CATEGORIES = {
    "contract": ["month-to-month", "one-year", "two-year"],
    "internet_service": ["dsl", "fiber", "none"],
    "payment_method": ["card", "bank-transfer", "electronic-check", "mailed-check"],
}


def read_rows():
    with open(os.path.join(ROOT, "samples", "churn", "churn.csv"), newline="") as f:
        return list(csv.DictReader(f))


def main():
    mismatch = "--mismatch" in sys.argv
    rows = read_rows()
    x, means, stds = onnx_export.prepare(rows, NUMERIC, CATEGORIES)
    y = np.array([int(r["churned"]) for r in rows])
    model = LogisticRegression(C=1.0, max_iter=1000, solver="lbfgs").fit(x, y)
    producer = "scikit-learn (by tests/Fixtures/imported/make_churn_sklearn.py)"
    if mismatch:
        graph = onnx_export.graph(NUMERIC, CATEGORIES, means, stds, model, "churn_logistic_regression", producer,
                                  rename={"tenure_months": "tenure"}, int64_inputs=("support_calls",), zipmap=True)
    else:
        graph = onnx_export.graph(NUMERIC, CATEGORIES, means, stds, model, "churn_logistic_regression", producer)
    target = os.path.join(HERE, "churn-mismatch.onnx" if mismatch else "churn-sklearn.onnx")
    with open(target, "wb") as f:
        f.write(graph.SerializeToString())
    if not mismatch:
        first, _, _ = onnx_export.prepare(rows[:20], NUMERIC, CATEGORIES, means, stds)
        with open(os.path.join(HERE, "churn-sklearn.expected.csv"), "w") as f:
            f.write("customer_id,probability\n")
            for r, p in zip(rows[:20], model.predict_proba(first)[:, 1]):
                f.write(f"{r['customer_id']},{p:.9f}\n")
    print(target)


if __name__ == "__main__":
    main()
