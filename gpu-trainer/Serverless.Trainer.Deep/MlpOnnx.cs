using System.Text.Json;
using Google.Protobuf;
using Onnx;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;

namespace Serverless.Trainer.Deep;

/// <summary>One fully connected layer's parameters as TorchSharp holds them: weight [out, in] row-major, bias [out].</summary>
public sealed record DenseLayer(int Inputs, int Outputs, float[] Weight, float[] Bias);

/// <summary>
/// Writes a trained MLP as an ONNX graph with its preprocessing inside (<see cref="MlpPreprocessor"/>:
/// impute, standardize, one-hot), through the ONNX protobuf model of OnnxSharp. The graph takes
/// the same inputs as the ML.NET models (one [N, 1] tensor per feature, float or string) and gives
/// the same outputs (<see cref="OnnxModel.Outputs"/>): binary <c>PredictedLabel</c> (bool),
/// <c>Probability</c> (sigmoid of the logit) and <c>Score</c> (the logit); multiclass
/// <c>PredictedLabel</c> (the class, a string) and <c>Score</c> (softmax, one column per class in the
/// order of the <see cref="OnnxMetadata.Classes"/> metadata); regression <c>Score</c> (the value, the
/// network's output times the target's standard deviation plus its mean).
/// </summary>
public static class MlpOnnx
{
    private const string MlDomain = "ai.onnx.ml";

    /// <summary>The prefix of every name inside the graph, so none can be a feature's (an input's) name.</summary>
    private const string Internal = "mlp/";

    public static byte[] Export(
        ModelSpec spec, MlpPreprocessor preprocessor, IReadOnlyList<DenseLayer> layers, IReadOnlyList<string> classes, (float Mean, float Scale) target, string producerVersion)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(preprocessor);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(classes);
        var graph = new GraphProto { Name = $"{spec.Name}-mlp" };
        foreach (var feature in spec.Features)
        {
            graph.Input.Add(Tensor(feature.Name, feature.IsNumeric ? TensorProto.Types.DataType.Float : TensorProto.Types.DataType.String, "N", 1));
        }

        var blocks = new List<string>();
        if (preprocessor.Numeric.Count > 0)
        {
            graph.Initializer.Add(Floats(Internal + "numeric_mean", preprocessor.Means, preprocessor.Means.Length));
            graph.Initializer.Add(Floats(Internal + "numeric_scale", preprocessor.Scales, preprocessor.Scales.Length));
            var raw = preprocessor.Numeric.Count == 1 ? preprocessor.Numeric[0] : Node(graph, "Concat", [.. preprocessor.Numeric], Internal + "numeric", Int("axis", 1));
            Node(graph, "IsNaN", [raw], Internal + "numeric_missing");
            Node(graph, "Where", [Internal + "numeric_missing", Internal + "numeric_mean", raw], Internal + "numeric_imputed");
            Node(graph, "Sub", [Internal + "numeric_imputed", Internal + "numeric_mean"], Internal + "numeric_centred");
            blocks.Add(Node(graph, "Div", [Internal + "numeric_centred", Internal + "numeric_scale"], Internal + "numeric_standardized"));
        }

        foreach (var (feature, categories) in preprocessor.Categorical.Where(c => c.Categories.Length > 0))
        {
            // [N, 1] strings -> [N, 1, K] one-hot (zeros for a value not listed) -> [N, K].
            var encoded = Node(graph, "OneHotEncoder", [feature], Internal + feature + "_onehot", MlDomain, Strings("cats_strings", categories), Int("zeros", 1));
            blocks.Add(Node(graph, "Flatten", [encoded], Internal + feature + "_columns", Int("axis", 1)));
        }

        var hidden = blocks.Count == 1 ? blocks[0] : Node(graph, "Concat", [.. blocks], Internal + "features", Int("axis", 1));
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            graph.Initializer.Add(Floats($"{Internal}dense{i}_weight", layer.Weight, layer.Outputs, layer.Inputs));
            graph.Initializer.Add(Floats($"{Internal}dense{i}_bias", layer.Bias, layer.Outputs));
            hidden = Node(graph, "Gemm", [hidden, $"{Internal}dense{i}_weight", $"{Internal}dense{i}_bias"], $"{Internal}dense{i}", Int("transB", 1));
            if (i < layers.Count - 1)
            {
                hidden = Node(graph, "Relu", [hidden], $"{Internal}dense{i}_relu");
            }
        }

        switch (spec.Task)
        {
            case ModelTasks.Multiclass:
                Node(graph, "Softmax", [hidden], OnnxOutputs.Score, Int("axis", 1));
                // The class is the name at the index of the largest logit (the first, on a tie).
                var names = new TensorProto { Name = Internal + "class_names", DataType = (int)TensorProto.Types.DataType.String };
                names.Dims.Add(classes.Count);
                names.StringData.AddRange(classes.Select(ByteString.CopyFromUtf8));
                graph.Initializer.Add(names);
                Node(graph, "ArgMax", [hidden], Internal + "class_index", Int("axis", 1), Int("keepdims", 0));
                Node(graph, "Gather", [Internal + "class_names", Internal + "class_index"], OnnxOutputs.PredictedLabel, Int("axis", 0));
                graph.Output.Add(Tensor(OnnxOutputs.PredictedLabel, TensorProto.Types.DataType.String, "N"));
                graph.Output.Add(Tensor(OnnxOutputs.Score, TensorProto.Types.DataType.Float, "N", classes.Count));
                break;
            case ModelTasks.Regression:
                graph.Initializer.Add(Floats(Internal + "target_scale", [target.Scale], 1));
                graph.Initializer.Add(Floats(Internal + "target_mean", [target.Mean], 1));
                Node(graph, "Mul", [hidden, Internal + "target_scale"], Internal + "target_scaled");
                Node(graph, "Add", [Internal + "target_scaled", Internal + "target_mean"], OnnxOutputs.Score);
                graph.Output.Add(Tensor(OnnxOutputs.Score, TensorProto.Types.DataType.Float, "N", 1));
                break;
            default:
                graph.Initializer.Add(Floats(Internal + "zero", [0f], 1));
                Node(graph, "Identity", [hidden], OnnxOutputs.Score);
                Node(graph, "Sigmoid", [hidden], OnnxOutputs.Probability);
                Node(graph, "Greater", [hidden, Internal + "zero"], OnnxOutputs.PredictedLabel);
                graph.Output.Add(Tensor(OnnxOutputs.PredictedLabel, TensorProto.Types.DataType.Bool, "N", 1));
                graph.Output.Add(Tensor(OnnxOutputs.Probability, TensorProto.Types.DataType.Float, "N", 1));
                graph.Output.Add(Tensor(OnnxOutputs.Score, TensorProto.Types.DataType.Float, "N", 1));
                break;
        }

        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "Serverless.Trainer.Deep",
            ProducerVersion = producerVersion,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = MlDomain, Version = 3 });
        model.MetadataProps.Add(new StringStringEntryProto { Key = OnnxMetadata.Task, Value = spec.Task });
        if (spec.Task == ModelTasks.Multiclass)
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = OnnxMetadata.Classes, Value = JsonSerializer.Serialize(classes) });
        }

        return model.ToByteArray();
    }

    /// <summary>Adds a node with one output named <paramref name="output"/> and returns that name.</summary>
    private static string Node(GraphProto graph, string op, string[] inputs, string output, params AttributeProto[] attributes) =>
        Node(graph, op, inputs, output, "", attributes);

    private static string Node(GraphProto graph, string op, string[] inputs, string output, string domain, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = (output.StartsWith(Internal, StringComparison.Ordinal) ? output : Internal + output) + "_node", Domain = domain };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }

    private static ValueInfoProto Tensor(string name, TensorProto.Types.DataType type, string rows, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = rows });
        foreach (var dim in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dim });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    private static TensorProto Floats(string name, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        return tensor;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Strings(string name, IEnumerable<string> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        attribute.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
        return attribute;
    }
}
