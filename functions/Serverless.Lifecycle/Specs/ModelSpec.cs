using System.Text.Json.Serialization;

namespace Serverless.Lifecycle.Specs;

/// <summary>
/// A model declared once: its schema, trainer, quality gate and policies. Validated by
/// <see cref="ModelSpecValidator"/> on registration and versioned with every model version.
/// </summary>
public sealed record ModelSpec
{
    public string Name { get; init; } = "";

    /// <summary>binary, multiclass or regression (see <see cref="ModelTasks"/>).</summary>
    public string Task { get; init; } = "";

    public string Label { get; init; } = "";

    public IReadOnlyList<FeatureSpec> Features { get; init; } = [];

    public TrainerSpec Trainer { get; init; } = new();

    public ValidationSpec Validation { get; init; } = new();

    public SplitSpec Split { get; init; } = new();

    public EvaluationSpec Evaluation { get; init; } = new();

    public RolloutSpec Rollout { get; init; } = new();

    public ServingSpec Serving { get; init; } = new();

    /// <summary>Drift policy: which tests, thresholds, window and sample sizes monitoring uses.</summary>
    public DriftSpec Drift { get; init; } = new();

    /// <summary>Which automatic triggers retrain the model.</summary>
    public RetrainingSpec Retraining { get; init; } = new();
}

public static class ModelTasks
{
    public const string Binary = "binary";
    public const string Multiclass = "multiclass";
    public const string Regression = "regression";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Binary, Multiclass, Regression };
}

public sealed record FeatureSpec
{
    public string Name { get; init; } = "";

    /// <summary>numeric or categorical (see <see cref="FeatureTypes"/>).</summary>
    public string Type { get; init; } = "";

    public RangeSpec? Range { get; init; }

    public IReadOnlyList<string>? Categories { get; init; }

    /// <summary>Largest share of rows allowed to miss this feature, 0 to 1.</summary>
    public double MaxMissingRatio { get; init; }

    [JsonIgnore]
    public bool IsNumeric => Type == FeatureTypes.Numeric;
}

public static class FeatureTypes
{
    public const string Numeric = "numeric";
    public const string Categorical = "categorical";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Numeric, Categorical };
}

public sealed record RangeSpec(double? Min, double? Max);

public sealed record TrainerSpec
{
    /// <summary>lightgbm, fasttree, sdca or mlp (see <see cref="TrainerAlgorithms"/>).</summary>
    public string Algorithm { get; init; } = TrainerAlgorithms.LightGbm;

    public IReadOnlyDictionary<string, double> Hyperparameters { get; init; } = new Dictionary<string, double>();

    public int Seed { get; init; } = 42;

    /// <summary>How long the training step may take in all (every start and trial) before the pipeline stops its jobs.</summary>
    public int TimeoutMinutes { get; init; } = 60;

    /// <summary>A hyperparameter search: trials fan out as jobs and the best by its metric becomes the candidate.</summary>
    public SearchSpec? Search { get; init; }

    /// <summary>
    /// A trainer of your own, in Azure: the container image each job of this model runs instead of the
    /// built-in trainer's (the Container Apps job's container is overridden per execution). It follows the
    /// trainer contract (README, "Bring your own trainer"); <see cref="Algorithm"/> is then its own name.
    /// </summary>
    public string? Image { get; init; }

    /// <summary>The command the <see cref="Image"/> runs (its entrypoint and arguments); the image's own when absent.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>
    /// A trainer of your own, in laptop mode: the command that runs it on this machine (a relative path is
    /// from the directory the host runs in), for example <c>["/usr/bin/python3", "samples/trainers/sklearn/train.py"]</c>.
    /// </summary>
    public IReadOnlyList<string>? LocalCommand { get; init; }

    /// <summary>Whether jobs of this model run a trainer of their own rather than the built-in ones.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsCustom => Image is not null || LocalCommand is not null;
}

/// <summary>
/// A hyperparameter search over <see cref="Space"/>: <c>grid</c> tries every combination of the
/// listed values (at most <see cref="Trials"/>), <c>random</c> draws <see cref="Trials"/> points
/// with the trainer's seed. Hyperparameters not in the space keep the trainer's values.
/// </summary>
public sealed record SearchSpec
{
    public string Strategy { get; init; } = SearchStrategies.Random;

    public int Trials { get; init; } = 4;

    public int MaxParallel { get; init; } = 2;

    /// <summary>The validation metric that picks the best trial; by default the task's first (auc, macroAccuracy, rmse).</summary>
    public string? Metric { get; init; }

    public IReadOnlyDictionary<string, SearchDimension> Space { get; init; } = new Dictionary<string, SearchDimension>();
}

/// <summary>One hyperparameter's range: listed <see cref="Values"/>, or <see cref="Min"/> to <see cref="Max"/> (random only).</summary>
public sealed record SearchDimension
{
    public IReadOnlyList<double>? Values { get; init; }

    public double? Min { get; init; }

    public double? Max { get; init; }

    /// <summary>Draw on a log scale (learning rates); needs a positive <see cref="Min"/>.</summary>
    public bool Log { get; init; }

    /// <summary>Round draws to whole numbers (leaves, iterations).</summary>
    public bool Integer { get; init; }
}

public static class SearchStrategies
{
    public const string Grid = "grid";
    public const string Random = "random";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Grid, Random };
}

public static class TrainerAlgorithms
{
    /// <summary>Gradient-boosted trees with LightGBM.</summary>
    public const string LightGbm = "lightgbm";

    /// <summary>ML.NET's own gradient-boosted trees (MART).</summary>
    public const string FastTree = "fasttree";

    /// <summary>A linear model (logistic regression) trained with stochastic dual coordinate ascent, on min-max normalized features.</summary>
    public const string Sdca = "sdca";

    /// <summary>A multilayer perceptron trained with TorchSharp: on a CUDA GPU when the job has one, else on the CPU.</summary>
    public const string Mlp = "mlp";

    /// <summary>The tasks each algorithm trains: ML.NET has no FastTree multiclass trainer.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlySet<string>> Tasks =
        new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal)
        {
            [LightGbm] = ModelTasks.All,
            [FastTree] = new HashSet<string>(StringComparer.Ordinal) { ModelTasks.Binary, ModelTasks.Regression },
            [Sdca] = ModelTasks.All,
            [Mlp] = ModelTasks.All,
        };

    public static bool Supports(string algorithm, string task) => Tasks.TryGetValue(algorithm, out var tasks) && tasks.Contains(task);

    /// <summary>"use lightgbm or sdca": the algorithms that train <paramref name="task"/>.</summary>
    public static string Describe(string task) => "use " + string.Join(" or ", Tasks.Where(t => t.Value.Contains(task)).Select(t => t.Key));

    /// <summary>
    /// Where an algorithm's job runs: <see cref="TrainerPlacements.Gpu"/> for the deep model (its
    /// trainer uses CUDA when the job has a GPU), <see cref="TrainerPlacements.Cpu"/> for the ML.NET
    /// algorithms, which train on one CPU thread whatever the job has.
    /// </summary>
    public static string Placement(string algorithm) => algorithm == Mlp ? TrainerPlacements.Gpu : TrainerPlacements.Cpu;

    /// <summary>
    /// Each algorithm's hyperparameters with their ranges and defaults. LightGBM's defaults are
    /// smaller and slower-learning than ML.NET's (16 leaves, 120 iterations at 0.05 instead of 31 and
    /// 100 at 0.1): on the few thousand rows a first dataset often has, ML.NET's overfit the sample
    /// churn data past its gate. FastTree's are ML.NET's; SDCA's null ones leave ML.NET to choose.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<HyperparameterRule>> Rules =
        new Dictionary<string, IReadOnlyList<HyperparameterRule>>(StringComparer.Ordinal)
        {
            [LightGbm] =
            [
                HyperparameterRule.Count("numberOfLeaves", 2, 131_072, 16), HyperparameterRule.Count("numberOfIterations", 1, 100_000, 120),
                HyperparameterRule.Rate("learningRate", 0.05), HyperparameterRule.Count("minimumExampleCountPerLeaf", 1, 1_000_000, 20),
            ],
            [FastTree] =
            [
                HyperparameterRule.Count("numberOfLeaves", 2, 131_072, 20), HyperparameterRule.Count("numberOfTrees", 1, 100_000, 100),
                HyperparameterRule.Rate("learningRate", 0.2), HyperparameterRule.Count("minimumExampleCountPerLeaf", 1, 1_000_000, 10),
            ],
            [Sdca] =
            [
                new("l2Regularization", 0, double.MaxValue, null, MinExclusive: true), new("l1Regularization", 0, double.MaxValue, null, MinExclusive: true),
                HyperparameterRule.Count("maximumNumberOfIterations", 1, 1_000_000, null),
            ],
            [Mlp] = MlpHyperparameters.Rules,
        };

    /// <summary>Algorithms and the hyperparameters each accepts.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlySet<string>> Hyperparameters =
        Rules.ToDictionary(r => r.Key, r => (IReadOnlySet<string>)r.Value.Select(h => h.Name).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>The value the spec sets for one of the algorithm's hyperparameters, else its default (null: the library's own).</summary>
    public static double? Value(string algorithm, IReadOnlyDictionary<string, double> hyperparameters, string name)
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        return hyperparameters.TryGetValue(name, out var value) ? value : Rule(algorithm, name)?.Default;
    }

    /// <summary>The rule for one of an algorithm's hyperparameters, or null when it has no such hyperparameter.</summary>
    public static HyperparameterRule? Rule(string algorithm, string name) =>
        Rules.TryGetValue(algorithm, out var rules) ? rules.FirstOrDefault(r => r.Name == name) : null;
}

/// <summary>Which kind of job trains an algorithm (see <see cref="TrainerAlgorithms.Placement"/>).</summary>
public static class TrainerPlacements
{
    public const string Cpu = "cpu";
    public const string Gpu = "gpu";
}

/// <summary>
/// A hyperparameter's allowed values: from <see cref="Min"/> (exclusive when <see cref="MinExclusive"/>)
/// to <see cref="Max"/>, whole numbers when <see cref="Integer"/>; <see cref="Default"/> when the spec
/// does not set it (null: the library's own default).
/// </summary>
public sealed record HyperparameterRule(string Name, double Min, double Max, double? Default, bool Integer = false, bool MinExclusive = false)
{
    public static HyperparameterRule Count(string name, double min, double max, double? fallback) => new(name, min, max, fallback, Integer: true);

    public static HyperparameterRule Rate(string name, double? fallback) => new(name, 0, 1, fallback, MinExclusive: true);

    /// <summary>Null when <paramref name="value"/> is allowed, else what is wrong with it.</summary>
    public string? Check(double value)
    {
        var inRange = double.IsFinite(value) && (MinExclusive ? value > Min : value >= Min) && value <= Max;
        if (inRange && (!Integer || value == Math.Floor(value)))
        {
            return null;
        }

        var what = Integer ? "a whole number" : "a number";
        var low = MinExclusive ? $"greater than {Format(Min)}" : $"at least {Format(Min)}";
        var high = Max == double.MaxValue ? "" : $" and at most {Format(Max)}";
        return $"Must be {what} {low}{high}; got {Format(value)}.";
    }

    private static string Format(double value) => value.ToString("G", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The <c>mlp</c> algorithm's hyperparameters, their ranges and defaults.</summary>
public static class MlpHyperparameters
{
    /// <summary>Width of the first hidden layer.</summary>
    public const string HiddenLayer1Units = "hiddenLayer1Units";

    /// <summary>Width of the second hidden layer; 0 for none.</summary>
    public const string HiddenLayer2Units = "hiddenLayer2Units";

    /// <summary>Width of the third hidden layer; 0 for none (and 0 whenever the second is 0).</summary>
    public const string HiddenLayer3Units = "hiddenLayer3Units";

    /// <summary>Share of each hidden layer's units dropped while training.</summary>
    public const string Dropout = "dropout";

    /// <summary>AdamW's learning rate.</summary>
    public const string LearningRate = "learningRate";

    /// <summary>Most passes over the training split.</summary>
    public const string Epochs = "epochs";

    /// <summary>Rows per optimizer step.</summary>
    public const string BatchSize = "batchSize";

    /// <summary>AdamW's decoupled weight decay.</summary>
    public const string WeightDecay = "weightDecay";

    /// <summary>Epochs without a better validation loss before training stops (the best epoch's weights are kept); 0 never stops early.</summary>
    public const string Patience = "patience";

    public static readonly IReadOnlyList<HyperparameterRule> Rules =
    [
        HyperparameterRule.Count(HiddenLayer1Units, 1, 4096, 64),
        HyperparameterRule.Count(HiddenLayer2Units, 0, 4096, 32),
        HyperparameterRule.Count(HiddenLayer3Units, 0, 4096, 0),
        new(Dropout, 0, 0.9, 0.1),
        HyperparameterRule.Rate(LearningRate, 0.003),
        HyperparameterRule.Count(Epochs, 1, 10_000, 60),
        HyperparameterRule.Count(BatchSize, 1, 65_536, 256),
        new(WeightDecay, 0, 1, 0.0001),
        HyperparameterRule.Count(Patience, 0, 10_000, 8),
    ];

    /// <summary>The value the spec sets, else the default.</summary>
    public static double Get(IReadOnlyDictionary<string, double> hyperparameters, string name)
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        return TrainerAlgorithms.Value(TrainerAlgorithms.Mlp, hyperparameters, name)!.Value;
    }

    /// <summary>The hidden layers' widths, in order: the non-zero ones of the three.</summary>
    public static int[] HiddenLayers(IReadOnlyDictionary<string, double> hyperparameters) =>
        new[] { HiddenLayer1Units, HiddenLayer2Units, HiddenLayer3Units }.Select(n => (int)Get(hyperparameters, n)).TakeWhile(w => w > 0).ToArray();
}

/// <summary>How strict data validation is: thresholds, the unexpected-column policy, severities.</summary>
public sealed record ValidationSpec
{
    /// <summary>Fewest data rows a dataset may have.</summary>
    public int MinRows { get; init; } = 30;

    /// <summary>ignore or error: what a column that is neither a feature nor the label gets.</summary>
    public string UnexpectedColumns { get; init; } = UnexpectedColumnPolicies.Ignore;

    /// <summary>Largest share of rows that duplicate an earlier row.</summary>
    public double MaxDuplicateRatio { get; init; } = 0.1;

    /// <summary>Smallest share of rows each label class must have.</summary>
    public double MinClassShare { get; init; } = 0.01;

    public SkewSpec Skew { get; init; } = new();

    /// <summary>Severity overrides by rule (see <see cref="Specs.DataRules.Adjustable"/>): blocking or warning.</summary>
    public IReadOnlyDictionary<string, string> Severity { get; init; } = new Dictionary<string, string>();
}

public static class UnexpectedColumnPolicies
{
    public const string Ignore = "ignore";
    public const string Error = "error";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Ignore, Error };
}

/// <summary>Value skew against the previous accepted dataset: PSI per feature, with per-feature overrides.</summary>
public sealed record SkewSpec
{
    public double PsiThreshold { get; init; } = 0.25;

    public string Severity { get; init; } = Specs.Severities.Warning;

    /// <summary>Per-feature PSI thresholds; features not listed use <see cref="PsiThreshold"/>.</summary>
    public IReadOnlyDictionary<string, double> Features { get; init; } = new Dictionary<string, double>();
}

public sealed record SplitSpec
{
    public double Train { get; init; } = 0.7;

    public double Validation { get; init; } = 0.15;

    public double Test { get; init; } = 0.15;

    public int Seed { get; init; } = 42;
}

public sealed record EvaluationSpec
{
    public GateSpec Gate { get; init; } = new();

    /// <summary>Single-row scoring latency the candidate's p99 must stay within, in milliseconds.</summary>
    public double LatencyBudgetMs { get; init; } = 50;

    /// <summary>A person's approval after the gate passes and before the candidate is registered.</summary>
    public ApprovalSpec? Approval { get; init; }

    /// <summary>Permutation feature importance of every candidate on the test split, kept on its card.</summary>
    public ImportanceSpec Importance { get; init; } = new();
}

/// <summary>
/// How the evaluate step measures which features a candidate relies on: each feature's values are
/// shuffled across the rows (<see cref="Repeats"/> times, seeded), the candidate is scored again, and
/// the drop of <see cref="Metric"/> is the feature's importance; the spread of the drops says how sure
/// that is. Works on any ONNX graph the product serves, imported ones included.
/// </summary>
public sealed record ImportanceSpec
{
    /// <summary>Off: no importance on the card, no importance-weighted drift, and a gate's <c>maxFeatureShare</c> fails as not measured.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The metric whose drop is measured; null for the task's default (<see cref="MetricNames.Importance"/>: auc, logLoss, rmse).</summary>
    public string? Metric { get; init; }

    /// <summary>Shuffles per feature: the importance is their mean drop, the spread their standard deviation.</summary>
    public int Repeats { get; init; } = 3;

    /// <summary>A larger test split is measured on a seeded sample of this many rows (the ranking is stable long before; the cost grows with rows × features × repeats).</summary>
    public int MaxRows { get; init; } = 10_000;
}

/// <summary>
/// When <see cref="Required"/>, a run whose candidate passed the gate waits for
/// <c>POST /runs/{runId}/approve</c> or <c>/reject</c>; no decision within <see cref="TimeoutHours"/> rejects it.
/// </summary>
public sealed record ApprovalSpec
{
    public bool Required { get; init; }

    public double TimeoutHours { get; init; } = 24;
}

/// <summary>
/// The gate: value thresholds on the candidate's test metrics, change thresholds against the
/// champion scored on the same test split, and the same two kinds per slice. The first model of
/// a name has no champion and is gated on value thresholds alone.
/// </summary>
public sealed record GateSpec
{
    public IReadOnlyList<ThresholdSpec> Thresholds { get; init; } = [];

    public IReadOnlyList<ChangeThresholdSpec> Changes { get; init; } = [];

    public SliceGateSpec? Slices { get; init; }

    /// <summary>
    /// Optional: the most of the candidate's permutation importance one feature may carry (0 to 1),
    /// for a team that does not want a model leaning on a single input; null (the default) checks nothing.
    /// </summary>
    public double? MaxFeatureShare { get; init; }
}

/// <summary>A value threshold: the metric must be at least <see cref="Min"/> and at most <see cref="Max"/>.</summary>
public sealed record ThresholdSpec(string Metric, double? Min, double? Max);

/// <summary>
/// A change threshold against the champion, in the metric's better direction (higher for AUC,
/// lower for log-loss, unless <see cref="Direction"/> says otherwise): the candidate must improve
/// on the champion by at least <see cref="MinDelta"/> (absolute; negative allows that much
/// regression) and by at least <see cref="MinRelativeDelta"/> (a share of the champion's value).
/// </summary>
public sealed record ChangeThresholdSpec(string Metric, double? MinDelta, double? MinRelativeDelta, string? Direction = null);

public static class MetricDirections
{
    public const string Higher = "higher";
    public const string Lower = "lower";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Higher, Lower };
}

/// <summary>
/// Per-slice evaluation: one slice per value of each listed categorical feature. Slices with
/// fewer than <see cref="MinRows"/> test rows are reported but not gated.
/// </summary>
public sealed record SliceGateSpec
{
    public IReadOnlyList<string> Features { get; init; } = [];

    public int MinRows { get; init; } = 30;

    public IReadOnlyList<ThresholdSpec> Thresholds { get; init; } = [];

    public IReadOnlyList<ChangeThresholdSpec> Changes { get; init; } = [];
}

/// <summary>
/// Automatic retraining: on a schedule, and on drift. New data always starts a run, and runs can
/// always be started on demand.
/// </summary>
public sealed record RetrainingSpec
{
    /// <summary>A five-field CRON expression, in UTC (for example <c>0 2 * * 1</c>, Mondays at 02:00); null for none.</summary>
    public string? Schedule { get; init; }

    /// <summary>Whether drift (after <see cref="DriftSpec.ConsecutiveWindows"/>, outside the cooldown) starts a run.</summary>
    public bool OnDrift { get; init; } = true;

    /// <summary>Optional: retrain when the champion's live quality, from feedback, falls below its test metrics by more than allowed.</summary>
    public QualityDropSpec? OnQualityDrop { get; init; }

    /// <summary>
    /// What automatic retraining trains on: <c>newest</c> (the newest dataset) or
    /// <c>newestWithFeedback</c> (it plus the production rows that have ground truth).
    /// </summary>
    public string TrainingData { get; init; } = "newest";
}

/// <param name="Metric">A metric of the task that can be measured live: binary auc, accuracy, logLoss; multiclass microAccuracy; regression rmse, mae, r2.</param>
/// <param name="MaxDrop">How much worse than the card's test value the live value may be (in the metric's own direction).</param>
/// <param name="MinLabelled">Predictions with feedback needed in the window before quality is judged.</param>
public sealed record QualityDropSpec(string Metric, double MaxDrop, int MinLabelled = 100);

/// <summary>
/// How monitoring decides that production data drifted from the training data. A feature drifts
/// when any of its type's tests crosses its threshold: PSI, Wasserstein (normalized by the
/// baseline's standard deviation) and Jensen-Shannon above it; Kolmogorov-Smirnov and chi-square
/// p-values below it. The dataset drifts when at least <see cref="DriftedShare"/> of the features do.
/// </summary>
public sealed record DriftSpec
{
    public IReadOnlyList<string> NumericTests { get; init; } = [DriftTests.Psi, DriftTests.KolmogorovSmirnov];

    public IReadOnlyList<string> CategoricalTests { get; init; } = [DriftTests.Psi, DriftTests.ChiSquare];

    /// <summary>Thresholds per test; a test not named here keeps <see cref="DriftTests.DefaultThresholds"/>.</summary>
    public IReadOnlyDictionary<string, double> Thresholds { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>Per-feature thresholds: feature → test → threshold. An override replaces only the tests it names.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Features { get; init; } = new Dictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);

    /// <summary>The window: the predictions of the last this many minutes.</summary>
    public double WindowMinutes { get; init; } = 60;

    /// <summary>Instead of a time span: the last this many predictions (looking back at most a week).</summary>
    public int? WindowPredictions { get; init; }

    /// <summary>Below this many predictions in the window the report says "insufficient data", not "no drift".</summary>
    public int MinSamples { get; init; } = 200;

    /// <summary>Share of features that must drift for the dataset to drift.</summary>
    public double DriftedShare { get; init; } = 0.3;

    /// <summary>
    /// What <see cref="DriftedShare"/> is a share of: <c>features</c> (the default: each feature counts
    /// the same) or <c>importance</c> (each feature counts by its share of the champion's permutation
    /// importance, so drift in an input the model ignores does not retrain it, and drift in the one it
    /// relies on does). A champion without importance on its card falls back to <c>features</c>, and the
    /// report says so.
    /// </summary>
    public string ShareOf { get; init; } = DriftShares.Features;

    /// <summary>Windows in a row that must drift before monitoring acts.</summary>
    public int ConsecutiveWindows { get; init; } = 2;

    /// <summary>After a retraining, how long drift does not start another one.</summary>
    public double CooldownHours { get; init; } = 24;

    /// <summary>The threshold of <paramref name="test"/> for <paramref name="feature"/>: its override, the spec's global value, or the default.</summary>
    public double Threshold(string feature, string test) =>
        Features.TryGetValue(feature, out var own) && own.TryGetValue(test, out var value) ? value
        : Thresholds.TryGetValue(test, out var global) ? global
        : DriftTests.DefaultThresholds[test];
}

/// <summary>What a drift policy's <see cref="DriftSpec.DriftedShare"/> counts.</summary>
public static class DriftShares
{
    public const string Features = "features";
    public const string Importance = "importance";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Features, Importance };
}

public static class DriftTests
{
    public const string Psi = "psi";
    public const string KolmogorovSmirnov = "ks";
    public const string Wasserstein = "wasserstein";
    public const string JensenShannon = "jensenShannon";
    public const string ChiSquare = "chiSquare";

    public static readonly IReadOnlySet<string> Numeric = new HashSet<string>(StringComparer.Ordinal) { Psi, KolmogorovSmirnov, Wasserstein, JensenShannon };

    public static readonly IReadOnlySet<string> Categorical = new HashSet<string>(StringComparer.Ordinal) { Psi, ChiSquare, JensenShannon };

    /// <summary>Tests whose threshold is a p-value: drift when the p-value is below it.</summary>
    public static readonly IReadOnlySet<string> PValue = new HashSet<string>(StringComparer.Ordinal) { KolmogorovSmirnov, ChiSquare };

    public static readonly IReadOnlyDictionary<string, double> DefaultThresholds = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        [Psi] = 0.2,
        [KolmogorovSmirnov] = 0.01,
        [Wasserstein] = 0.1,
        [JensenShannon] = 0.1,
        [ChiSquare] = 0.01,
    };
}

/// <summary>What serving does with inputs that do not match the schema exactly (see <see cref="InputPolicies"/>).</summary>
public sealed record ServingSpec
{
    /// <summary>Fields that are not features: <c>ignore</c> (default) or <c>reject</c> (400 naming the field).</summary>
    public string UnknownFeatures { get; init; } = InputPolicies.Ignore;

    /// <summary>
    /// NaN and infinities (JSON has no literal for them: "NaN", "Infinity", "-Infinity", or a
    /// number beyond a 32-bit float): <c>reject</c> (default) or <c>pass</c> (NaN is then a
    /// missing value, which the model imputes).
    /// </summary>
    public string NonFinite { get; init; } = InputPolicies.Reject;

    /// <summary>
    /// Categories outside a feature's <c>categories</c>: <c>pass</c> (default; the one-hot
    /// encoder gives an unseen category no weight) or <c>reject</c>. Applies to features that list categories.
    /// </summary>
    public string UnseenCategories { get; init; } = InputPolicies.Pass;
}

public static class InputPolicies
{
    public const string Reject = "reject";
    public const string Ignore = "ignore";
    public const string Pass = "pass";

    public static readonly IReadOnlySet<string> UnknownFeatures = new HashSet<string>(StringComparer.Ordinal) { Reject, Ignore };

    public static readonly IReadOnlySet<string> Values = new HashSet<string>(StringComparer.Ordinal) { Reject, Pass };
}

/// <summary>
/// How a version that passed the gate reaches traffic. <c>direct</c>: it becomes champion at
/// once. <c>shadow</c>: it becomes <c>challenger</c> and scores a share of the champion's
/// requests off the response path (logged, not served) for one step. <c>canary</c>: it serves a
/// growing share of the champion's requests, step by step. After every step its error rate,
/// latency and (where feedback exists) live quality are checked against the bounds; when they
/// hold after the last step it becomes champion, when they do not it is rolled back with the reason.
/// </summary>
public sealed record RolloutSpec
{
    public string Strategy { get; init; } = RolloutStrategies.Direct;

    /// <summary>Canary: the shares of traffic, in order. Shadow: one step whose share caps the shadowed requests.</summary>
    public IReadOnlyList<RolloutStepSpec> Steps { get; init; } = [];

    /// <summary>Largest share of the challenger's scorings that may fail.</summary>
    public double MaxErrorRate { get; init; } = 0.01;

    /// <summary>Largest p99 scoring latency of the challenger, in ms; by default the evaluation's latency budget.</summary>
    public double? MaxLatencyP99Ms { get; init; }

    /// <summary>Optional: how much worse than the champion the challenger's live quality may be, on predictions with feedback.</summary>
    public RolloutQualitySpec? Quality { get; init; }

    /// <summary>Challenger predictions a step needs before it is judged; a step with fewer is extended (three times at most).</summary>
    public int MinRequests { get; init; } = 20;
}

/// <param name="Share">Of the champion's requests, 0 to 1.</param>
/// <param name="Minutes">How long the step lasts before it is judged.</param>
public sealed record RolloutStepSpec(double Share, double Minutes);

/// <param name="Metric">accuracy (classifiers) or mae (regression), computed live from feedback.</param>
/// <param name="MaxDrop">How much worse than the champion's the challenger's value may be.</param>
public sealed record RolloutQualitySpec(string Metric, double MaxDrop);

public static class RolloutStrategies
{
    public const string Direct = "direct";
    public const string Shadow = "shadow";
    public const string Canary = "canary";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Direct, Shadow, Canary };
}

/// <summary>What an automatic retraining trains on (<c>retraining.trainingData</c>); monitoring applies it.</summary>
public static class TrainingDataPolicies
{
    /// <summary>Retrain on the newest dataset as it is.</summary>
    public const string Newest = "newest";

    /// <summary>The newest dataset plus the production rows that have ground truth since it was uploaded: the feedback loop.</summary>
    public const string NewestWithFeedback = "newestWithFeedback";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Newest, NewestWithFeedback };
}
