#!/usr/bin/python3
"""Makes churn-sklearn.onnx: the sample churn model trained outside the product, the way a team that
trains in Python would bring one. scikit-learn fits a logistic regression on samples/churn/churn.csv
(mean imputation, standard scaling, one-hot categories); the graph is written with the `onnx` package
(skl2onnx is not a Debian package) and has the shapes scikit-learn's converter gives with
zipmap=False: `output_label` (int64, [N]) and `output_probability` (float, [N, 2]). Each feature is its
own [N, 1] input, as the product feeds them. Deterministic: the same data gives the same bytes.

    /usr/bin/python3 tests/Fixtures/imported/make_churn_sklearn.py            # rewrites the fixture
    /usr/bin/python3 tests/Fixtures/imported/make_churn_sklearn.py --mismatch  # churn-mismatch.onnx

It also writes churn-sklearn.expected.csv: scikit-learn's own probabilities for the first 20 rows.
The mismatched graph (for the refusal test) has a misspelt input, a numeric input fed as int64 and a
probability output that is a ZipMap-like sequence of maps.
Needs the Debian packages python3-sklearn and python3-onnx.
"""
import csv
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
NUMERIC = ["tenure_months", "monthly_charges", "support_calls"]
CATEGORIES = {
    "contract": ["month-to-month", "one-year", "two-year"],
    "internet_service": ["dsl", "fiber", "none"],
    "payment_method": ["card", "bank-transfer", "electronic-check", "mailed-check"],
}


def read_rows():
    with open(os.path.join(ROOT, "samples", "churn", "churn.csv"), newline="") as f:
        return list(csv.DictReader(f))


def number(value):
    return float(value) if value not in ("", None) else float("nan")


def fit(rows):
    numeric = np.array([[number(r[c]) for c in NUMERIC] for r in rows], dtype=np.float64)
    means = np.nanmean(numeric, axis=0)
    numeric = np.where(np.isnan(numeric), means, numeric)
    stds = numeric.std(axis=0)
    scaled = (numeric - means) / stds
    onehot = np.array([[1.0 if r[c] == v else 0.0 for c, values in CATEGORIES.items() for v in values] for r in rows])
    x = np.hstack([scaled, onehot])
    y = np.array([int(r["churned"]) for r in rows])
    model = LogisticRegression(C=1.0, max_iter=1000, solver="lbfgs").fit(x, y)
    return means, stds, model


def graph(means, stds, model, mismatch=False):
    nodes, inits, columns = [], [], []
    inputs = []
    for i, name in enumerate(NUMERIC):
        input_name = "tenure" if (mismatch and name == "tenure_months") else name
        input_type = TensorProto.INT64 if (mismatch and name == "support_calls") else TensorProto.FLOAT
        inputs.append(helper.make_tensor_value_info(input_name, input_type, ["N", 1]))
        source = input_name
        if input_type != TensorProto.FLOAT:
            nodes.append(helper.make_node("Cast", [input_name], [f"{name}_float"], to=TensorProto.FLOAT))
            source = f"{name}_float"
        inits += [
            helper.make_tensor(f"{name}_mean", TensorProto.FLOAT, [1], [float(means[i])]),
            helper.make_tensor(f"{name}_std", TensorProto.FLOAT, [1], [float(stds[i])]),
        ]
        nodes += [
            helper.make_node("IsNaN", [source], [f"{name}_isnan"]),
            helper.make_node("Where", [f"{name}_isnan", f"{name}_mean", source], [f"{name}_imputed"]),
            helper.make_node("Sub", [f"{name}_imputed", f"{name}_mean"], [f"{name}_centered"]),
            helper.make_node("Div", [f"{name}_centered", f"{name}_std"], [f"{name}_scaled"]),
        ]
        columns.append(f"{name}_scaled")
    for name, values in CATEGORIES.items():
        inputs.append(helper.make_tensor_value_info(name, TensorProto.STRING, ["N", 1]))
        inits.append(helper.make_tensor(f"{name}_shape", TensorProto.INT64, [2], [-1, len(values)]))
        nodes += [
            helper.make_node("OneHotEncoder", [name], [f"{name}_onehot3"], domain="ai.onnx.ml", cats_strings=values, zeros=1),
            helper.make_node("Reshape", [f"{name}_onehot3", f"{name}_shape"], [f"{name}_onehot"]),
        ]
        columns.append(f"{name}_onehot")
    weights = model.coef_.astype(np.float32).reshape(-1, 1)
    inits += [
        helper.make_tensor("weights", TensorProto.FLOAT, list(weights.shape), weights.flatten().tolist()),
        helper.make_tensor("bias", TensorProto.FLOAT, [1], [float(model.intercept_[0])]),
        helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]),
        helper.make_tensor("half", TensorProto.FLOAT, [1], [0.5]),
        helper.make_tensor("flat", TensorProto.INT64, [1], [-1]),
    ]
    nodes += [
        helper.make_node("Concat", columns, ["features"], axis=1),
        helper.make_node("MatMul", ["features", "weights"], ["margin_raw"]),
        helper.make_node("Add", ["margin_raw", "bias"], ["margin"]),
        helper.make_node("Sigmoid", ["margin"], ["p1"]),
        helper.make_node("Sub", ["one", "p1"], ["p0"]),
        helper.make_node("Concat", ["p0", "p1"], ["output_probability"], axis=1),
        helper.make_node("Greater", ["p1", "half"], ["positive"]),
        helper.make_node("Cast", ["positive"], ["label_column"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["label_column", "flat"], ["output_label"]),
    ]
    if mismatch:
        entry = onnx.TypeProto()
        entry.map_type.key_type = TensorProto.INT64
        entry.map_type.value_type.tensor_type.elem_type = TensorProto.FLOAT
        sequence = onnx.TypeProto()
        sequence.sequence_type.elem_type.CopyFrom(entry)
        probability = onnx.ValueInfoProto(name="output_probability_map", type=sequence)
        nodes += [
            helper.make_node("ZipMap", ["output_probability"], ["output_probability_map"], domain="ai.onnx.ml", classlabels_int64s=[0, 1]),
        ]
        outputs = [helper.make_tensor_value_info("output_label", TensorProto.INT64, ["N"]), probability]
    else:
        outputs = [
            helper.make_tensor_value_info("output_label", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("output_probability", TensorProto.FLOAT, ["N", 2]),
        ]
    g = helper.make_graph(nodes, "churn_logistic_regression", inputs, outputs, inits)
    m = helper.make_model(
        g,
        producer_name="scikit-learn (by tests/Fixtures/imported/make_churn_sklearn.py)",
        producer_version="1.2.1",
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
    )
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def main():
    mismatch = "--mismatch" in sys.argv
    means, stds, model = fit(read_rows())
    target = os.path.join(HERE, "churn-mismatch.onnx" if mismatch else "churn-sklearn.onnx")
    with open(target, "wb") as f:
        f.write(graph(means, stds, model, mismatch).SerializeToString())
    if not mismatch:
        # scikit-learn's own probabilities for the first rows, which the tests compare ONNX Runtime's with.
        rows = read_rows()[:20]
        numeric = np.array([[number(r[c]) for c in NUMERIC] for r in rows], dtype=np.float64)
        numeric = np.where(np.isnan(numeric), means, numeric)
        onehot = np.array([[1.0 if r[c] == v else 0.0 for c, values in CATEGORIES.items() for v in values] for r in rows])
        expected = model.predict_proba(np.hstack([(numeric - means) / stds, onehot]))[:, 1]
        with open(os.path.join(HERE, "churn-sklearn.expected.csv"), "w") as f:
            f.write("customer_id,probability\n")
            for r, p in zip(rows, expected):
                f.write(f"{r['customer_id']},{p:.9f}\n")
    print(target)


if __name__ == "__main__":
    main()
