using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Serverless.Lifecycle.Specs;

/// <summary>
/// Parses and validates a model spec, reporting every problem with its JSON path rather than
/// stopping at the first one, so a person fixes the spec in one pass.
/// </summary>
public static partial class ModelSpecValidator
{
    /// <summary>The longest drift window and cooldown a spec may give: a year.</summary>
    public const int MaxWindowMinutes = 366 * 24 * 60;

    private const int MaxImportanceRepeats = 20;
    private const int MinImportanceRows = 100;
    private const int MaxImportanceRows = 1_000_000;

    /// <summary>Metrics each task produces, and whether the metric is a share in [0, 1].</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, bool>> MetricsByTask =
        new Dictionary<string, IReadOnlyDictionary<string, bool>>(StringComparer.Ordinal)
        {
            [ModelTasks.Binary] = new Dictionary<string, bool>(StringComparer.Ordinal)
            {
                [MetricNames.Auc] = true, [MetricNames.Accuracy] = true, [MetricNames.F1] = true, [MetricNames.Precision] = true, [MetricNames.Recall] = true, [MetricNames.LogLoss] = false,
            },
            [ModelTasks.Multiclass] = new Dictionary<string, bool>(StringComparer.Ordinal)
            {
                [MetricNames.MacroAccuracy] = true, [MetricNames.MicroAccuracy] = true, [MetricNames.LogLoss] = false,
            },
            [ModelTasks.Regression] = new Dictionary<string, bool>(StringComparer.Ordinal)
            {
                [MetricNames.Rmse] = false, [MetricNames.Mae] = false, [MetricNames.R2] = false,
            },
        };

    private static readonly JsonSerializerOptions StrictOptions = new(SpecJson.Options)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,62}$")]
    private static partial Regex ModelNamePattern();

    /// <summary>Parses <paramref name="json"/> and validates it; the spec is null when it could not be read at all.</summary>
    public static (ModelSpec? Spec, IReadOnlyList<SpecProblem> Problems) Parse(string json)
    {
        ModelSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<ModelSpec>(json, StrictOptions);
        }
        catch (JsonException ex)
        {
            return (null, [new SpecProblem(ex.Path ?? "$", FirstSentence(ex.Message))]);
        }

        if (spec is null)
        {
            return (null, [new SpecProblem("$", "The spec is empty (null).")]);
        }

        return (spec, Validate(spec));
    }

    public static IReadOnlyList<SpecProblem> Validate(ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<SpecProblem>();
        void Add(string path, string message) => problems.Add(new SpecProblem(path, message));

        if (!ModelNamePattern().IsMatch(spec.Name ?? ""))
        {
            Add("$.name", "Name must be 2 to 63 characters of lowercase letters, digits and '-', starting with a letter or digit.");
        }

        var taskKnown = ModelTasks.All.Contains(spec.Task ?? "");
        if (!taskKnown)
        {
            Add("$.task", $"Unknown task '{spec.Task}'; expected one of: {string.Join(", ", ModelTasks.All)}.");
        }

        ValidateFeatures(spec, Add);
        ValidateValidation(spec, Add);
        ValidateTrainer(spec.Trainer, spec.Task, Add);
        ValidateSplit(spec.Split, Add);
        if (taskKnown)
        {
            ValidateGate(spec, Add);
        }

        var serving = spec.Serving ?? new ServingSpec();
        foreach (var (path, value, allowed) in new[]
        {
            ("$.serving.unknownFeatures", serving.UnknownFeatures, InputPolicies.UnknownFeatures),
            ("$.serving.nonFinite", serving.NonFinite, InputPolicies.Values),
            ("$.serving.unseenCategories", serving.UnseenCategories, InputPolicies.Values),
        })
        {
            if (!allowed.Contains(value ?? ""))
            {
                Add(path, $"Unknown policy '{value}'; expected one of: {string.Join(", ", allowed)}.");
            }
        }

        ValidateRollout(spec, Add);
        ValidateDrift(spec, Add);
        if (!TrainingDataPolicies.All.Contains(spec.Retraining?.TrainingData ?? ""))
        {
            Add("$.retraining.trainingData", $"Unknown policy '{spec.Retraining?.TrainingData}'; expected one of: {string.Join(", ", TrainingDataPolicies.All)}.");
        }

        if (spec.Retraining?.OnQualityDrop is { } drop)
        {
            var live = MetricNames.MeasurableLive(spec.Task ?? "");
            if (!live.Contains(drop.Metric ?? ""))
            {
                Add("$.retraining.onQualityDrop.metric", $"'{drop.Metric}' cannot be measured live for {spec.Task}; expected one of: {string.Join(", ", live)}.");
            }

            if (!(drop.MaxDrop >= 0))
            {
                Add("$.retraining.onQualityDrop.maxDrop", "Expected 0 or more.");
            }

            if (drop.MinLabelled < 1)
            {
                Add("$.retraining.onQualityDrop.minLabelled", "Expected at least 1.");
            }
        }
        if (spec.Retraining?.Schedule is { } schedule && !Cronos.CronExpression.TryParse(schedule, Cronos.CronFormat.Standard, out _))
        {
            Add("$.retraining.schedule", $"'{schedule}' is not a five-field CRON expression (minute hour day-of-month month day-of-week), for example \"0 2 * * 1\".");
        }

        return problems;
    }

    private static void ValidateFeatures(ModelSpec spec, Action<string, string> add)
    {
        if (string.IsNullOrWhiteSpace(spec.Label))
        {
            add("$.label", "The label column is required.");
        }

        if (spec.Features is null || spec.Features.Count == 0)
        {
            add("$.features", "At least one feature is required.");
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Features.Count; i++)
        {
            var feature = spec.Features[i];
            var path = $"$.features[{i}]";
            if (feature is null)
            {
                add(path, "A feature cannot be null.");
                continue;
            }

            if (string.IsNullOrWhiteSpace(feature.Name))
            {
                add($"{path}.name", "The feature name is required.");
            }
            else if (!seen.Add(feature.Name))
            {
                add($"{path}.name", $"Duplicate feature '{feature.Name}'.");
            }
            else if (feature.Name == spec.Label)
            {
                add($"{path}.name", $"'{feature.Name}' is the label; the label must not be listed among the features.");
            }

            if (!FeatureTypes.All.Contains(feature.Type ?? ""))
            {
                add($"{path}.type", $"Unknown feature type '{feature.Type}'; expected one of: {string.Join(", ", FeatureTypes.All)}.");
            }

            if (feature.MaxMissingRatio is < 0 or > 1 || double.IsNaN(feature.MaxMissingRatio))
            {
                add($"{path}.maxMissingRatio", $"Must be between 0 and 1; got {Format(feature.MaxMissingRatio)}.");
            }

            if (feature.Range is { } range)
            {
                if (feature.Type == FeatureTypes.Categorical)
                {
                    add($"{path}.range", "A range applies to numeric features only.");
                }
                else if (range.Min is { } low && !double.IsFinite(low) || range.Max is { } high && !double.IsFinite(high))
                {
                    add($"{path}.range", "min and max must be finite numbers.");
                }
                else if (range.Min is { } min && range.Max is { } max && min > max)
                {
                    add($"{path}.range", $"min ({Format(min)}) is greater than max ({Format(max)}).");
                }
            }

            if (feature.Categories is { } categories)
            {
                if (feature.Type == FeatureTypes.Numeric)
                {
                    add($"{path}.categories", "Categories apply to categorical features only.");
                }
                else if (categories.Count == 0)
                {
                    add($"{path}.categories", "List at least one category, or leave categories out.");
                }
                else if (categories.Distinct(StringComparer.Ordinal).Count() != categories.Count)
                {
                    add($"{path}.categories", "Categories must be unique.");
                }
            }
        }
    }

    private static void ValidateValidation(ModelSpec spec, Action<string, string> add)
    {
        var validation = spec.Validation;
        if (validation is null)
        {
            add("$.validation", "The validation section cannot be null; leave it out for the defaults.");
            return;
        }

        if (validation.MinRows is < 10 or > 1_000_000_000)
        {
            add("$.validation.minRows", $"Must be between 10 and 1e9 (a dataset must split into train, validation and test); got {validation.MinRows}.");
        }

        if (!UnexpectedColumnPolicies.All.Contains(validation.UnexpectedColumns ?? ""))
        {
            add("$.validation.unexpectedColumns", $"Unknown policy '{validation.UnexpectedColumns}'; expected one of: {string.Join(", ", UnexpectedColumnPolicies.All)}.");
        }

        foreach (var (name, value) in new[] { ("maxDuplicateRatio", validation.MaxDuplicateRatio), ("minClassShare", validation.MinClassShare) })
        {
            if (!(value >= 0 && value <= 1))
            {
                add($"$.validation.{name}", $"Must be between 0 and 1; got {Format(value)}.");
            }
        }

        foreach (var (rule, severity) in validation.Severity ?? new Dictionary<string, string>())
        {
            if (!DataRules.Adjustable.Contains(rule))
            {
                add($"$.validation.severity.{rule}", $"Rule '{rule}' has no adjustable severity; adjustable: {string.Join(", ", DataRules.Adjustable)}.");
            }
            else if (!Severities.All.Contains(severity ?? ""))
            {
                add($"$.validation.severity.{rule}", $"Unknown severity '{severity}'; expected blocking or warning.");
            }
        }

        var skew = validation.Skew;
        if (skew is null)
        {
            return;
        }

        if (!(skew.PsiThreshold > 0) || double.IsInfinity(skew.PsiThreshold))
        {
            add("$.validation.skew.psiThreshold", $"Must be a positive number; got {Format(skew.PsiThreshold)}.");
        }

        if (!Severities.All.Contains(skew.Severity ?? ""))
        {
            add("$.validation.skew.severity", $"Unknown severity '{skew.Severity}'; expected blocking or warning.");
        }

        var features = spec.Features?.Select(f => f?.Name).ToHashSet(StringComparer.Ordinal) ?? [];
        foreach (var (feature, threshold) in skew.Features ?? new Dictionary<string, double>())
        {
            if (!features.Contains(feature))
            {
                add($"$.validation.skew.features.{feature}", $"'{feature}' is not a feature of this model.");
            }
            else if (!(threshold > 0) || double.IsInfinity(threshold))
            {
                add($"$.validation.skew.features.{feature}", $"Must be a positive number; got {Format(threshold)}.");
            }
        }
    }

    private static void ValidateTrainer(TrainerSpec? trainer, string? task, Action<string, string> add)
    {
        if (trainer is null)
        {
            add("$.trainer", "The trainer section is required.");
            return;
        }

        IReadOnlySet<string>? known = null;
        if (trainer.IsCustom)
        {
            // A trainer of its own names its algorithm and takes its own hyperparameters: only their form is checked.
            ValidateCustomTrainer(trainer, add);
        }
        else if (!TrainerAlgorithms.Hyperparameters.TryGetValue(trainer.Algorithm ?? "", out known))
        {
            add("$.trainer.algorithm", $"Unknown algorithm '{trainer.Algorithm}'; expected one of: {string.Join(", ", TrainerAlgorithms.Hyperparameters.Keys)}.");
        }
        else if (task is not null && ModelTasks.All.Contains(task) && !TrainerAlgorithms.Supports(trainer.Algorithm!, task))
        {
            add("$.trainer.algorithm", $"'{trainer.Algorithm}' does not train {task} models; {TrainerAlgorithms.Describe(task)}.");
        }
        else
        {
            foreach (var (name, value) in trainer.Hyperparameters ?? new Dictionary<string, double>())
            {
                if (!known.Contains(name))
                {
                    add($"$.trainer.hyperparameters.{name}", $"Unknown hyperparameter for {trainer.Algorithm}; expected one of: {string.Join(", ", known)}.");
                }
                else if (TrainerAlgorithms.Rule(trainer.Algorithm!, name)!.Check(value) is { } problem)
                {
                    add($"$.trainer.hyperparameters.{name}", problem);
                }
            }

            if (trainer.Algorithm == TrainerAlgorithms.Mlp)
            {
                ValidateMlpLayers(trainer.Hyperparameters ?? new Dictionary<string, double>(), trainer.Search, add);
            }
        }

        if (trainer.TimeoutMinutes is < 1 or > 24 * 60)
        {
            add("$.trainer.timeoutMinutes", $"Must be between 1 and 1440; got {trainer.TimeoutMinutes}.");
        }

        if (trainer.Search is { } search)
        {
            ValidateSearch(search, known, trainer.Algorithm ?? "", task, add);
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,39}$")]
    private static partial Regex CustomAlgorithmPattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex HyperparameterNamePattern();

    private const int MaxCommandWords = 32;

    private static void ValidateCustomTrainer(TrainerSpec trainer, Action<string, string> add)
    {
        if (!CustomAlgorithmPattern().IsMatch(trainer.Algorithm ?? ""))
        {
            add("$.trainer.algorithm", $"A trainer of your own names its algorithm: 1 to 40 lowercase letters, digits, '.', '_' or '-' (for example \"sklearn-logreg\"); got '{trainer.Algorithm}'.");
        }
        else if (TrainerAlgorithms.Hyperparameters.ContainsKey(trainer.Algorithm!))
        {
            add("$.trainer.algorithm", $"'{trainer.Algorithm}' is a built-in algorithm; a trainer of your own names its own, so that the model card does not say the built-in one trained it.");
        }

        foreach (var (name, value) in trainer.Hyperparameters ?? new Dictionary<string, double>())
        {
            if (!HyperparameterNamePattern().IsMatch(name))
            {
                add($"$.trainer.hyperparameters.{name}", "A hyperparameter's name is 1 to 64 letters, digits, '_', '.' or '-', starting with a letter.");
            }
            else if (!double.IsFinite(value))
            {
                add($"$.trainer.hyperparameters.{name}", $"Must be a finite number; got {Format(value)}.");
            }
        }

        if (trainer.Image is { } image && (image.Length is 0 or > 512 || image.Any(char.IsWhiteSpace)))
        {
            add("$.trainer.image", "A container image reference (registry/name:tag or @digest), without spaces, at most 512 characters.");
        }

        if (trainer.Command is not null && trainer.Image is null)
        {
            add("$.trainer.command", "The command of an image: set trainer.image too (laptop mode runs trainer.localCommand).");
        }

        foreach (var (field, command) in new[] { ("command", trainer.Command), ("localCommand", trainer.LocalCommand) })
        {
            if (command is null)
            {
                continue;
            }

            if (command.Count is 0 or > MaxCommandWords)
            {
                add($"$.trainer.{field}", $"A command is 1 to {MaxCommandWords} words: the program, then its arguments.");
            }

            foreach (var (word, i) in command.Select((w, i) => (w, i)).Where(x => string.IsNullOrEmpty(x.w) || x.w.Any(char.IsControl)))
            {
                add($"$.trainer.{field}[{i}]", "A word of the command cannot be empty or hold control characters.");
            }
        }
    }

    /// <summary>
    /// A hidden layer of width 0 ends the network: a later layer cannot have units after it, neither
    /// as set nor in any trial a search could plan (the layer before may be 0 while this one may not).
    /// </summary>
    private static void ValidateMlpLayers(IReadOnlyDictionary<string, double> hyperparameters, SearchSpec? search, Action<string, string> add)
    {
        string[] layers = [MlpHyperparameters.HiddenLayer1Units, MlpHyperparameters.HiddenLayer2Units, MlpHyperparameters.HiddenLayer3Units];
        (double Low, double High) Widths(string name) =>
            search?.Space is { } space && space.TryGetValue(name, out var dimension) && dimension is not null
                ? dimension.Values is { Count: > 0 } values ? (values.Min(), values.Max()) : (dimension.Min ?? 0, dimension.Max ?? 0)
                : (MlpHyperparameters.Get(hyperparameters, name), MlpHyperparameters.Get(hyperparameters, name));
        for (var i = 1; i < layers.Length; i++)
        {
            var (before, after) = (search?.Space?.ContainsKey(layers[i - 1]) == true, search?.Space?.ContainsKey(layers[i]) == true);
            if ((hyperparameters.ContainsKey(layers[i]) || before || after) && Widths(layers[i]).High > 0 && Widths(layers[i - 1]).Low == 0)
            {
                // Named where the conflict can be resolved: the searched layer that may be 0, else the one that has units.
                var path = before ? $"$.trainer.search.space.{layers[i - 1]}" : after ? $"$.trainer.search.space.{layers[i]}" : $"$.trainer.hyperparameters.{layers[i]}";
                add(path, $"A hidden layer needs the one before it: {layers[i - 1]} is or may be 0, so {layers[i]} must be 0 too.");
            }
        }
    }

    private static void ValidateSearch(SearchSpec search, IReadOnlySet<string>? known, string algorithm, string? task, Action<string, string> add)
    {
        if (!SearchStrategies.All.Contains(search.Strategy ?? ""))
        {
            add("$.trainer.search.strategy", $"Unknown strategy '{search.Strategy}'; expected one of: {string.Join(", ", SearchStrategies.All)}.");
        }

        if (search.Trials is < 1 or > 100)
        {
            add("$.trainer.search.trials", $"Must be between 1 and 100; got {search.Trials}.");
        }

        if (search.MaxParallel is < 1 or > 16)
        {
            add("$.trainer.search.maxParallel", $"Must be between 1 and 16; got {search.MaxParallel}.");
        }

        if (search.Metric is not null && task is not null && MetricsByTask.TryGetValue(task, out var metrics) && !metrics.ContainsKey(search.Metric))
        {
            add("$.trainer.search.metric", $"Unknown metric '{search.Metric}' for task {task}; expected one of: {string.Join(", ", metrics.Keys)}.");
        }

        if (search.Space is null || search.Space.Count == 0)
        {
            add("$.trainer.search.space", "A search needs at least one hyperparameter to vary.");
            return;
        }

        foreach (var (name, dimension) in search.Space)
        {
            var path = $"$.trainer.search.space.{name}";
            if (dimension is null)
            {
                add(path, "A hyperparameter's range cannot be null: give values, or min and max.");
                continue;
            }

            if (known is not null && !known.Contains(name))
            {
                add(path, $"Unknown hyperparameter; expected one of: {string.Join(", ", known)}.");
                continue;
            }

            var rule = TrainerAlgorithms.Rule(algorithm, name);
            if (dimension.Values is { } values)
            {
                if (values.Count == 0)
                {
                    add(path + ".values", "Must list at least one value.");
                }

                foreach (var (value, i) in values.Select((v, i) => (v, i)))
                {
                    if (rule?.Check(value) is { } problem)
                    {
                        add($"{path}.values[{i}]", problem);
                    }
                }
            }
            else if (search.Strategy == SearchStrategies.Grid)
            {
                add(path + ".values", "A grid search lists the values to try.");
            }
            else if (dimension.Min is not { } min || dimension.Max is not { } max || !(min >= 0) || !(max >= min) || double.IsInfinity(max) || (dimension.Log && !(min > 0)))
            {
                add(path, $"Give values, or min and max with 0 <= min <= max (0 < min on a log scale); got min {Format(dimension.Min ?? double.NaN)} and max {Format(dimension.Max ?? double.NaN)}.");
            }
            else if ((rule?.Check(min) ?? rule?.Check(max)) is { } problem)
            {
                add(path, $"The range {Format(min)} to {Format(max)} leaves the hyperparameter's own: {problem}");
            }
        }
    }

    private static void ValidateDrift(ModelSpec spec, Action<string, string> add)
    {
        var drift = spec.Drift ?? new DriftSpec();
        void Tests(string path, IReadOnlyList<string>? tests, IReadOnlySet<string> allowed)
        {
            foreach (var (test, i) in (tests ?? []).Select((t, i) => (t, i)).Where(t => !allowed.Contains(t.t ?? "")))
            {
                add($"{path}[{i}]", $"Unknown test '{test}'; expected one of: {string.Join(", ", allowed)}.");
            }
        }

        Tests("$.drift.numericTests", drift.NumericTests, DriftTests.Numeric);
        Tests("$.drift.categoricalTests", drift.CategoricalTests, DriftTests.Categorical);
        void Thresholds(string path, IReadOnlyDictionary<string, double>? thresholds)
        {
            foreach (var (test, value) in thresholds ?? new Dictionary<string, double>())
            {
                if (!DriftTests.DefaultThresholds.ContainsKey(test))
                {
                    add($"{path}.{test}", $"Unknown test '{test}'; expected one of: {string.Join(", ", DriftTests.DefaultThresholds.Keys)}.");
                }
                else if (!(value > 0) || (DriftTests.PValue.Contains(test) && value >= 1))
                {
                    add($"{path}.{test}", DriftTests.PValue.Contains(test) ? "A p-value threshold is above 0 and below 1." : "The threshold must be above 0.");
                }
            }
        }

        Thresholds("$.drift.thresholds", drift.Thresholds);
        foreach (var (feature, thresholds) in drift.Features ?? new Dictionary<string, IReadOnlyDictionary<string, double>>())
        {
            if (!(spec.Features ?? []).Any(f => f.Name == feature))
            {
                add($"$.drift.features.{feature}", $"'{feature}' is not a feature of this model.");
            }

            Thresholds($"$.drift.features.{feature}", thresholds);
        }

        // Bounded: the window and the cooldown are added to dates (a year is far beyond any use).
        if (!(drift.WindowMinutes > 0 && drift.WindowMinutes <= MaxWindowMinutes))
        {
            add("$.drift.windowMinutes", $"The window must be longer than 0 minutes and at most {MaxWindowMinutes} (a year).");
        }

        if (drift.WindowPredictions is < 1)
        {
            add("$.drift.windowPredictions", "Expected at least 1 prediction.");
        }

        if (drift.MinSamples < 1)
        {
            add("$.drift.minSamples", "Expected at least 1.");
        }

        if (!(drift.DriftedShare > 0 && drift.DriftedShare <= 1))
        {
            add("$.drift.driftedShare", "Expected a share above 0 and at most 1.");
        }

        if (!DriftShares.All.Contains(drift.ShareOf ?? ""))
        {
            add("$.drift.shareOf", $"Unknown share '{drift.ShareOf}'; expected one of: {string.Join(", ", DriftShares.All)}.");
        }

        if (drift.ConsecutiveWindows < 1)
        {
            add("$.drift.consecutiveWindows", "Expected at least 1.");
        }

        if (!(drift.CooldownHours >= 0 && drift.CooldownHours <= MaxWindowMinutes / 60))
        {
            add("$.drift.cooldownHours", $"Expected 0 to {MaxWindowMinutes / 60} hours (a year).");
        }
    }

    private static void ValidateRollout(ModelSpec spec, Action<string, string> add)
    {
        var rollout = spec.Rollout ?? new RolloutSpec();
        if (!RolloutStrategies.All.Contains(rollout.Strategy ?? ""))
        {
            add("$.rollout.strategy", $"Unknown rollout strategy '{rollout.Strategy}'; expected one of: {string.Join(", ", RolloutStrategies.All)}.");
            return;
        }

        var steps = rollout.Steps ?? [];
        switch (rollout.Strategy)
        {
            case RolloutStrategies.Direct when steps.Count > 0:
                add("$.rollout.steps", "A direct rollout has no steps; use canary or shadow for a staged rollout.");
                break;
            case RolloutStrategies.Canary when steps.Count == 0:
                add("$.rollout.steps", "A canary rollout needs at least one step, for example [{\"share\": 0.1, \"minutes\": 30}].");
                break;
            case RolloutStrategies.Shadow when steps.Count != 1:
                add("$.rollout.steps", "A shadow rollout has exactly one step: the share of requests to shadow and for how long, for example [{\"share\": 0.5, \"minutes\": 60}].");
                break;
        }

        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var limit = rollout.Strategy == RolloutStrategies.Shadow ? "1" : "1 (exclusive; the last step is followed by promotion)";
            if (step is null || !(step.Share > 0) || step.Share > 1 || (rollout.Strategy == RolloutStrategies.Canary && step.Share >= 1))
            {
                add($"$.rollout.steps[{i}].share", $"The share must be above 0 and at most {limit}.");
            }

            if (step is null || !(step.Minutes > 0) || step.Minutes > 7 * 24 * 60)
            {
                add($"$.rollout.steps[{i}].minutes", "The step must last more than 0 minutes and at most a week.");
            }
        }

        if (!(rollout.MaxErrorRate >= 0 && rollout.MaxErrorRate <= 1))
        {
            add("$.rollout.maxErrorRate", "Expected a share between 0 and 1.");
        }

        if (rollout.MaxLatencyP99Ms is { } latency && !(latency > 0))
        {
            add("$.rollout.maxLatencyP99Ms", "Expected a positive number of milliseconds.");
        }

        if (rollout.MinRequests < 1)
        {
            add("$.rollout.minRequests", "Expected at least 1.");
        }

        if (rollout.Quality is { } quality)
        {
            var allowed = spec.Task == ModelTasks.Regression ? "mae" : "accuracy";
            if (quality.Metric != allowed)
            {
                add("$.rollout.quality.metric", $"Live quality of a {spec.Task} model is measured as {allowed}.");
            }

            if (!(quality.MaxDrop >= 0))
            {
                add("$.rollout.quality.maxDrop", "Expected 0 or more.");
            }
        }
    }

    private static void ValidateSplit(SplitSpec? split, Action<string, string> add)
    {
        if (split is null)
        {
            return;
        }

        foreach (var (name, value) in new[] { ("train", split.Train), ("validation", split.Validation), ("test", split.Test) })
        {
            if (!(value > 0 && value < 1))
            {
                add($"$.split.{name}", $"Must be a share strictly between 0 and 1; got {Format(value)}.");
            }
        }

        var sum = split.Train + split.Validation + split.Test;
        if (Math.Abs(sum - 1) > 1e-9)
        {
            add("$.split", $"train + validation + test must add up to 1; they add up to {Format(sum)}.");
        }
    }

    private static void ValidateGate(ModelSpec spec, Action<string, string> add)
    {
        var task = spec.Task!;
        var gate = spec.Evaluation?.Gate;
        ValidateThresholds(task, gate?.Thresholds ?? [], "$.evaluation.gate.thresholds", add);
        ValidateChanges(task, gate?.Changes ?? [], "$.evaluation.gate.changes", add);
        if (gate?.Slices is { } slices)
        {
            if (slices.Features is null)
            {
                add("$.evaluation.gate.slices.features", "Required: the categorical features to cut slices by.");
            }

            var sliceFeatures = slices.Features ?? [];
            for (var i = 0; i < sliceFeatures.Count; i++)
            {
                var feature = (spec.Features ?? []).FirstOrDefault(f => f.Name == sliceFeatures[i]);
                if (feature is null || feature.IsNumeric)
                {
                    add($"$.evaluation.gate.slices.features[{i}]", $"'{sliceFeatures[i]}' is not a categorical feature of this spec; slices are cut by categorical values.");
                }
            }

            if (slices.MinRows < 1)
            {
                add("$.evaluation.gate.slices.minRows", $"Must be at least 1; got {slices.MinRows}.");
            }

            ValidateThresholds(task, slices.Thresholds ?? [], "$.evaluation.gate.slices.thresholds", add);
            ValidateChanges(task, slices.Changes ?? [], "$.evaluation.gate.slices.changes", add);
        }

        if (spec.Evaluation?.Approval is { } approval && !(approval.TimeoutHours is >= 0.001 and <= 720))
        {
            add("$.evaluation.approval.timeoutHours", $"Must be between 0.001 and 720 hours; got {Format(approval.TimeoutHours)}.");
        }

        if (spec.Evaluation is { } evaluation && (!(evaluation.LatencyBudgetMs > 0) || double.IsInfinity(evaluation.LatencyBudgetMs)))
        {
            add("$.evaluation.latencyBudgetMs", $"Must be a positive number of milliseconds; got {Format(evaluation.LatencyBudgetMs)}.");
        }

        if (gate?.MaxFeatureShare is { } share && !(share > 0 && share <= 1))
        {
            add("$.evaluation.gate.maxFeatureShare", $"Expected a share above 0 and at most 1; got {Format(share)}.");
        }

        ValidateImportance(task, spec.Evaluation, add);
    }

    private static void ValidateImportance(string task, EvaluationSpec? evaluation, Action<string, string> add)
    {
        if (evaluation is null)
        {
            return;
        }

        if (evaluation.Importance is not { } importance)
        {
            add("$.evaluation.importance", "Cannot be null; leave it out for the defaults, or set \"enabled\": false.");
            return;
        }

        if (importance.Metric is { } metric && !MetricsByTask[task].ContainsKey(metric))
        {
            add("$.evaluation.importance.metric", $"Unknown metric '{metric}' for task {task}; expected one of: {string.Join(", ", MetricsByTask[task].Keys)}.");
        }

        // Bounded: every repeat scores the sample once per feature.
        if (importance.Repeats is < 1 or > MaxImportanceRepeats)
        {
            add("$.evaluation.importance.repeats", $"Expected 1 to {MaxImportanceRepeats} shuffles per feature; got {importance.Repeats}.");
        }

        if (importance.MaxRows is < MinImportanceRows or > MaxImportanceRows)
        {
            add("$.evaluation.importance.maxRows", $"Expected {MinImportanceRows} to {MaxImportanceRows} rows; got {importance.MaxRows}.");
        }
    }

    private static void ValidateThresholds(string task, IReadOnlyList<ThresholdSpec> thresholds, string listPath, Action<string, string> add)
    {
        var metrics = MetricsByTask[task];
        for (var i = 0; i < thresholds.Count; i++)
        {
            var threshold = thresholds[i];
            var path = $"{listPath}[{i}]";
            if (threshold is null)
            {
                add(path, "A threshold cannot be null.");
                continue;
            }

            if (!metrics.TryGetValue(threshold.Metric ?? "", out var isShare))
            {
                add($"{path}.metric", $"Unknown metric '{threshold.Metric}' for task {task}; expected one of: {string.Join(", ", metrics.Keys)}.");
                continue;
            }

            if (threshold.Min is null && threshold.Max is null)
            {
                add(path, "Give min, max or both.");
            }

            foreach (var (name, bound) in new[] { ("min", threshold.Min), ("max", threshold.Max) })
            {
                if (bound is { } value && (double.IsNaN(value) || double.IsInfinity(value) || (isShare && value is < 0 or > 1)))
                {
                    add($"{path}.{name}", $"Threshold out of range for {threshold.Metric}: {Format(value)}; expected a value between 0 and 1.");
                }
            }

            if (threshold.Min is { } min && threshold.Max is { } max && min > max)
            {
                add(path, $"min ({Format(min)}) is greater than max ({Format(max)}).");
            }
        }
    }

    private static void ValidateChanges(string task, IReadOnlyList<ChangeThresholdSpec> changes, string listPath, Action<string, string> add)
    {
        var metrics = MetricsByTask[task];
        for (var i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            var path = $"{listPath}[{i}]";
            if (change is null)
            {
                add(path, "A change threshold cannot be null.");
                continue;
            }

            if (!metrics.ContainsKey(change.Metric ?? ""))
            {
                add($"{path}.metric", $"Unknown metric '{change.Metric}' for task {task}; expected one of: {string.Join(", ", metrics.Keys)}.");
            }

            if (change.MinDelta is null && change.MinRelativeDelta is null)
            {
                add(path, "Give minDelta, minRelativeDelta or both (for example {\"metric\": \"auc\", \"minDelta\": -0.01}: at most 0.01 worse than the champion).");
            }

            foreach (var (name, bound) in new[] { ("minDelta", change.MinDelta), ("minRelativeDelta", change.MinRelativeDelta) })
            {
                if (bound is { } value && !double.IsFinite(value))
                {
                    add($"{path}.{name}", $"Must be a finite number; got {Format(value)}.");
                }
            }

            if (change.Direction is not null && !MetricDirections.All.Contains(change.Direction))
            {
                add($"{path}.direction", $"Unknown direction '{change.Direction}'; expected higher or lower (by default the metric's own).");
            }
        }
    }

    private static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". Path:", StringComparison.Ordinal);
        return end > 0 ? message[..(end + 1)] : message;
    }
}
