"""A fitted scikit-learn logistic regression over the product's feature columns, written as ONNX with
the `onnx` package (skl2onnx is not a Debian package). One [N, 1] input per feature, as the product
feeds them: numeric features are mean-imputed and standardised inside the graph, categorical ones
one-hot encoded over their categories. The outputs have the shapes scikit-learn's converter gives with
zipmap=False: `output_label` (int64, [N]) and `output_probability` (float, [N, 2]); the product reads
them through the output map in the graph's metadata (`lifecycle.outputs`).
"""
import json

import numpy as np
import onnx
from onnx import TensorProto, helper

OUTPUT_MAP = {"label": "output_label", "probability": "output_probability"}


def prepare(rows, numeric, categories, means=None, stds=None):
    """The design matrix the graph computes: imputed, standardised numbers, then one-hot categories."""
    values = np.array([[float(r[c]) if r.get(c) not in ("", None) else np.nan for c in numeric] for r in rows], dtype=np.float64)
    if means is None:
        means = np.nanmean(values, axis=0)
    values = np.where(np.isnan(values), means, values)
    if stds is None:
        stds = values.std(axis=0)
        stds[stds == 0] = 1.0
    onehot = np.array([[1.0 if r.get(c) == v else 0.0 for c, vs in categories.items() for v in vs] for r in rows]).reshape(len(rows), -1)
    return np.hstack([(values - means) / stds, onehot]), means, stds


def graph(numeric, categories, means, stds, model, name="logistic_regression", producer="scikit-learn", metadata=None,
          rename=None, int64_inputs=(), zipmap=False):
    """The ONNX model. `rename`, `int64_inputs` and `zipmap` exist to make graphs that do not fit (for tests)."""
    rename = rename or {}
    nodes, inits, columns, inputs = [], [], [], []
    for i, feature in enumerate(numeric):
        input_name = rename.get(feature, feature)
        input_type = TensorProto.INT64 if feature in int64_inputs else TensorProto.FLOAT
        inputs.append(helper.make_tensor_value_info(input_name, input_type, ["N", 1]))
        source = input_name
        if input_type != TensorProto.FLOAT:
            nodes.append(helper.make_node("Cast", [input_name], [f"{feature}_float"], to=TensorProto.FLOAT))
            source = f"{feature}_float"
        inits += [
            helper.make_tensor(f"{feature}_mean", TensorProto.FLOAT, [1], [float(means[i])]),
            helper.make_tensor(f"{feature}_std", TensorProto.FLOAT, [1], [float(stds[i])]),
        ]
        nodes += [
            helper.make_node("IsNaN", [source], [f"{feature}_isnan"]),
            helper.make_node("Where", [f"{feature}_isnan", f"{feature}_mean", source], [f"{feature}_imputed"]),
            helper.make_node("Sub", [f"{feature}_imputed", f"{feature}_mean"], [f"{feature}_centered"]),
            helper.make_node("Div", [f"{feature}_centered", f"{feature}_std"], [f"{feature}_scaled"]),
        ]
        columns.append(f"{feature}_scaled")
    for feature, values in categories.items():
        inputs.append(helper.make_tensor_value_info(feature, TensorProto.STRING, ["N", 1]))
        inits.append(helper.make_tensor(f"{feature}_shape", TensorProto.INT64, [2], [-1, len(values)]))
        nodes += [
            helper.make_node("OneHotEncoder", [feature], [f"{feature}_onehot3"], domain="ai.onnx.ml", cats_strings=list(values), zeros=1),
            helper.make_node("Reshape", [f"{feature}_onehot3", f"{feature}_shape"], [f"{feature}_onehot"]),
        ]
        columns.append(f"{feature}_onehot")
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
    outputs = [helper.make_tensor_value_info("output_label", TensorProto.INT64, ["N"])]
    if zipmap:
        entry = onnx.TypeProto()
        entry.map_type.key_type = TensorProto.INT64
        entry.map_type.value_type.tensor_type.elem_type = TensorProto.FLOAT
        sequence = onnx.TypeProto()
        sequence.sequence_type.elem_type.CopyFrom(entry)
        nodes.append(helper.make_node("ZipMap", ["output_probability"], ["output_probability_map"], domain="ai.onnx.ml", classlabels_int64s=[0, 1]))
        outputs.append(onnx.ValueInfoProto(name="output_probability_map", type=sequence))
    else:
        outputs.append(helper.make_tensor_value_info("output_probability", TensorProto.FLOAT, ["N", 2]))
    m = helper.make_model(
        helper.make_graph(nodes, name, inputs, outputs, inits),
        producer_name=producer,
        producer_version=__import__("sklearn").__version__,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
    )
    m.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = m.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(m)
    return m


def product_metadata(task="binary"):
    """What the product reads from a graph that does not use ML.NET's output names."""
    return {"lifecycle.task": task, "lifecycle.outputs": json.dumps(OUTPUT_MAP)}
