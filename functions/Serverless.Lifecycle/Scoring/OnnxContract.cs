using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Scoring;

/// <summary>
/// Which graph outputs hold the label, the probability and the score, for a graph that does not use
/// ML.NET's names (<see cref="OnnxOutputs"/>): scikit-learn's <c>output_label</c> and
/// <c>output_probability</c>, for example. Stored in the graph as <see cref="OnnxMetadata.Outputs"/>.
/// </summary>
/// <param name="Label">Binary: bool or int64 (non-zero is the positive class), optional (probability ≥ 0.5 otherwise). Multiclass: string or int64 class.</param>
/// <param name="Probability">Binary: float, [N], [N,1] or [N,2] (the last column is the positive class). Multiclass: float [N, classes].</param>
/// <param name="Score">Binary: the raw score, optional (the probability otherwise). Regression: float [N] or [N,1], the value.</param>
public sealed record OnnxOutputMap(string? Label = null, string? Probability = null, string? Score = null)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
}

/// <summary>
/// What serving needs of a graph, checked all at once so a graph that does not fit is refused with
/// every problem named: an input per feature (float for numeric, string for categorical, shape
/// [N, 1]) and no other, and the outputs the task reads, by ML.NET's names or a declared
/// <see cref="OnnxOutputMap"/>, of types serving can read. <see cref="OnnxModel"/> loads only a graph
/// that passes.
/// </summary>
public static class OnnxContract
{
    /// <summary>A graph's outputs as serving reads them: which output plays which part, and how to read it.</summary>
    public sealed record Roles(string? Label, TensorElementType LabelType, string? Probability, string? Score, IReadOnlyList<string> Classes);

    /// <summary>The graph's declared output map (<see cref="OnnxMetadata.Outputs"/>), or null when it uses ML.NET's names; a map that is not JSON is a problem.</summary>
    public static OnnxOutputMap? DeclaredMap(InferenceSession session, List<SpecProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(problems);
        if (!session.ModelMetadata.CustomMetadataMap.TryGetValue(OnnxMetadata.Outputs, out var json))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<OnnxOutputMap>(json, OnnxOutputMap.Json) ?? new OnnxOutputMap();
        }
        catch (JsonException ex)
        {
            problems.Add(new SpecProblem($"metadata.{OnnxMetadata.Outputs}", $"is not an output map ({{\"label\", \"probability\", \"score\"}}): {ex.Message}"));
            return null;
        }
    }

    /// <summary>Every way <paramref name="session"/> does not fit <paramref name="spec"/> (empty when it fits), and the roles of its outputs when they could be read.</summary>
    public static (IReadOnlyList<SpecProblem> Problems, Roles? Roles) Check(InferenceSession session, ModelSpec spec, OnnxOutputMap? map = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<SpecProblem>();
        map ??= DeclaredMap(session, problems);
        CheckInputs(session, spec, problems);
        var metadata = session.ModelMetadata.CustomMetadataMap;
        if (metadata.TryGetValue(OnnxMetadata.Task, out var task) && !string.Equals(task, spec.Task, StringComparison.Ordinal))
        {
            problems.Add(new SpecProblem($"metadata.{OnnxMetadata.Task}", $"The graph was trained for task '{task}', but the spec says '{spec.Task}'."));
        }

        var roles = CheckOutputs(session, spec, map, problems);
        return (problems, problems.Count == 0 ? roles : null);
    }

    private static void CheckInputs(InferenceSession session, ModelSpec spec, List<SpecProblem> problems)
    {
        var inputs = session.InputMetadata;
        foreach (var feature in spec.Features)
        {
            var path = $"inputs.{feature.Name}";
            if (!inputs.TryGetValue(feature.Name, out var input))
            {
                problems.Add(new SpecProblem(path, $"The graph has no input '{feature.Name}' for this {feature.Type} feature (inputs: {string.Join(", ", inputs.Keys)})."));
                continue;
            }

            var expected = feature.Type == FeatureTypes.Categorical ? TensorElementType.String : TensorElementType.Float;
            if (!input.IsTensor || input.ElementDataType != expected)
            {
                problems.Add(new SpecProblem(path, $"is {Describe(input)}; a {feature.Type} feature is fed as a {Name(expected)} tensor of shape [N, 1]."));
            }
            else if (input.Dimensions is not [_, 1 or -1])
            {
                problems.Add(new SpecProblem(path, $"has shape [{string.Join(", ", input.Dimensions)}]; each feature is fed as its own column, shape [N, 1]."));
            }
        }

        var features = spec.Features.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var extra in inputs.Keys.Where(k => !features.Contains(k)))
        {
            problems.Add(new SpecProblem($"inputs.{extra}", $"The graph needs input '{extra}', which is not a feature of the spec (features: {string.Join(", ", features)})."));
        }
    }

    private static Roles? CheckOutputs(InferenceSession session, ModelSpec spec, OnnxOutputMap? map, List<SpecProblem> problems)
    {
        var before = problems.Count;
        string? Output(string role, string? declared, string mlNet, bool required)
        {
            if (map is null)
            {
                var found = session.OutputMetadata.Keys.FirstOrDefault(k => k == mlNet || k.StartsWith(mlNet + ".", StringComparison.Ordinal));
                if (found is null && required)
                {
                    problems.Add(new SpecProblem($"outputs.{role}", $"The graph has no '{mlNet}' output (outputs: {string.Join(", ", session.OutputMetadata.Keys)}); name the output that holds the {role} in the output map."));
                }

                return found;
            }

            if (declared is null)
            {
                if (required)
                {
                    problems.Add(new SpecProblem($"outputs.{role}", $"A {spec.Task} model needs its {role}: name the output that holds it (outputs: {string.Join(", ", session.OutputMetadata.Keys)})."));
                }

                return null;
            }

            if (!session.OutputMetadata.ContainsKey(declared))
            {
                problems.Add(new SpecProblem($"outputs.{role}", $"The graph has no output '{declared}' (outputs: {string.Join(", ", session.OutputMetadata.Keys)})."));
                return null;
            }

            return declared;
        }

        bool Is(string? name, string role, string what, Func<NodeMetadata, bool> fits)
        {
            if (name is null)
            {
                return false;
            }

            var output = session.OutputMetadata[name];
            if (output.IsTensor && fits(output))
            {
                return true;
            }

            var zipMap = output.OnnxValueType is OnnxValueType.ONNX_TYPE_SEQUENCE ? " (scikit-learn's ZipMap: convert with options={id(model): {'zipmap': False}})" : "";
            problems.Add(new SpecProblem($"outputs.{role}", $"'{name}' is {Describe(output)}{zipMap}; the {role} of a {spec.Task} model is {what}."));
            return false;
        }

        static bool Column(NodeMetadata o) => o.Dimensions is [_] or [_, 1 or -1];

        switch (spec.Task)
        {
            case ModelTasks.Regression:
            {
                var score = Output("score", map?.Score, OnnxOutputs.Score, required: true);
                Is(score, "score", "a float tensor of shape [N] or [N, 1]", o => o.ElementDataType == TensorElementType.Float && Column(o));
                return problems.Count > before ? null : new Roles(null, default, null, score, []);
            }

            case ModelTasks.Multiclass:
            {
                var label = Output("label", map?.Label, OnnxOutputs.PredictedLabel, required: true);
                var probabilities = Output("probability", map is null ? null : map.Probability ?? map.Score, OnnxOutputs.Score, required: true);
                Is(label, "label", "a string or int64 tensor of shape [N] or [N, 1]", o => o.ElementDataType is TensorElementType.String or TensorElementType.Int64 && Column(o));
                var classes = Classes(session, problems);
                Is(probabilities, "probability", $"a float tensor of shape [N, {(classes.Count > 0 ? classes.Count : "classes")}], one probability per class", o => o.ElementDataType == TensorElementType.Float && o.Dimensions is [_, var c] && (classes.Count == 0 || c == classes.Count || c == -1));
                return problems.Count > before ? null : new Roles(label, session.OutputMetadata[label!].ElementDataType, probabilities, null, classes);
            }

            default:
            {
                var label = Output("label", map?.Label, OnnxOutputs.PredictedLabel, required: map is null);
                var probability = Output("probability", map?.Probability, OnnxOutputs.Probability, required: true);
                var score = Output("score", map?.Score, OnnxOutputs.Score, required: map is null);
                Is(label, "label", "a bool or int64 tensor of shape [N] or [N, 1]", o => o.ElementDataType is TensorElementType.Bool or TensorElementType.Int64 && Column(o));
                Is(probability, "probability", "a float tensor of shape [N], [N, 1] or [N, 2] (the last column the positive class)", o => o.ElementDataType == TensorElementType.Float && o.Dimensions is [_] or [_, 1 or 2 or -1]);
                Is(score, "score", "a float tensor of shape [N] or [N, 1]", o => o.ElementDataType == TensorElementType.Float && Column(o));
                if (problems.Count > before)
                {
                    return null;
                }

                return new Roles(label, label is null ? default : session.OutputMetadata[label].ElementDataType, probability, score, []);
            }
        }
    }

    /// <summary>
    /// A multiclass graph names its classes in its metadata (<see cref="OnnxMetadata.Classes"/>), one per
    /// probability; without them its probabilities cannot be read.
    /// </summary>
    private static IReadOnlyList<string> Classes(InferenceSession session, List<SpecProblem> problems)
    {
        string[]? classes = null;
        if (session.ModelMetadata.CustomMetadataMap.TryGetValue(OnnxMetadata.Classes, out var json))
        {
            try
            {
                classes = JsonSerializer.Deserialize<string[]>(json);
            }
            catch (JsonException)
            {
                // Reported below as a missing class list.
            }
        }

        if (classes is not { Length: > 1 } || classes.Distinct(StringComparer.Ordinal).Count() != classes.Length)
        {
            problems.Add(new SpecProblem($"metadata.{OnnxMetadata.Classes}", "The multiclass graph does not list its classes: it must be a JSON array of two or more distinct labels, in the order of the probabilities."));
            return [];
        }

        return classes;
    }

    private static string Describe(NodeMetadata node) =>
        node.IsTensor ? $"a {Name(node.ElementDataType)} tensor of shape [{string.Join(", ", node.Dimensions)}]" : $"a {node.OnnxValueType switch
        {
            OnnxValueType.ONNX_TYPE_SEQUENCE => "sequence",
            OnnxValueType.ONNX_TYPE_MAP => "map",
            _ => node.OnnxValueType.ToString(),
        }}, not a tensor";

    private static string Name(TensorElementType type) => type.ToString().ToLowerInvariant();
}
