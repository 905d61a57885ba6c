using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Serverless.Lifecycle.Observability;

/// <summary>
/// The product's telemetry names, in one place: the metric names, the dimensions each is emitted
/// with, and the trace source. The workbooks in <c>infra/workbooks/</c> query exactly these (a
/// test checks them), and the telemetry tests check that the code emits exactly these dimensions.
/// </summary>
public static class TelemetryNames
{
    public const string Meter = "Serverless.Lifecycle";

    /// <summary>The trace source of the product's own spans (predictions, steps, training jobs).</summary>
    public const string ActivitySource = "Serverless.Lifecycle";

    /// <summary>Rows scored; tags model, version, alias, route, served (false for shadow scoring).</summary>
    public const string Predictions = "lifecycle.predictions";

    /// <summary>Time to score one request, in milliseconds; tags model, version, alias, route.</summary>
    public const string PredictionDuration = "lifecycle.prediction.duration";

    /// <summary>Requests that got no prediction; tags model, version, alias, route, kind (badRequest, scoring).</summary>
    public const string PredictionErrors = "lifecycle.prediction.errors";

    /// <summary>Prediction-log records dropped because the buffer was full or storage refused them; no tags.</summary>
    public const string PredictionLogDropped = "lifecycle.prediction_log.dropped";

    /// <summary>Prediction-log records written to storage; no tags.</summary>
    public const string PredictionLogWritten = "lifecycle.prediction_log.written";

    /// <summary>Each drift test's statistic per feature and window; tags model, version, feature, test, drifted.</summary>
    public const string DriftStatistic = "lifecycle.drift.statistic";

    /// <summary>The threshold each drift test was judged against, beside its statistic; tags model, version, feature, test.</summary>
    public const string DriftThreshold = "lifecycle.drift.threshold";

    /// <summary>Monitoring windows by outcome; tags model, status, action.</summary>
    public const string DriftWindows = "lifecycle.drift.windows";

    /// <summary>Retraining triggers; tags model, trigger, outcome (started, coalesced).</summary>
    public const string RetrainingTriggers = "lifecycle.retraining.triggers";

    /// <summary>Finished pipeline runs; tags model, trigger, outcome.</summary>
    public const string Runs = "lifecycle.runs";

    /// <summary>A finished run's duration in seconds; tags model, trigger, outcome.</summary>
    public const string RunDuration = "lifecycle.run.duration";

    /// <summary>A run step's duration in seconds; tags model, step, outcome.</summary>
    public const string RunStepDuration = "lifecycle.run.step.duration";

    /// <summary>Evaluation gate verdicts; tags model, passed, check (the first failed check's metric and scope, or "none").</summary>
    public const string GateVerdicts = "lifecycle.gate.verdicts";

    /// <summary>Registry events as the audit trail records them; tags model, action.</summary>
    public const string RegistryEvents = "lifecycle.registry.events";

    /// <summary>
    /// Storage failures a part of the host rode out (it logged, backed off and went on); tag component
    /// (prediction-log, batch-input, monitoring, dataset-watcher, serving, startup).
    /// </summary>
    public const string StorageFailures = "lifecycle.storage.failures";

    /// <summary>Every metric and the dimensions it is emitted with.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Dimensions = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        [Predictions] = [Tags.Model, Tags.Version, Tags.Alias, Tags.Route, Tags.Served],
        [PredictionDuration] = [Tags.Model, Tags.Version, Tags.Alias, Tags.Route],
        [PredictionErrors] = [Tags.Model, Tags.Version, Tags.Alias, Tags.Route, Tags.Kind],
        [PredictionLogDropped] = [],
        [PredictionLogWritten] = [],
        [DriftStatistic] = [Tags.Model, Tags.Version, Tags.Feature, Tags.Test, Tags.Drifted],
        [DriftThreshold] = [Tags.Model, Tags.Version, Tags.Feature, Tags.Test],
        [DriftWindows] = [Tags.Model, Tags.Status, Tags.Action],
        [RetrainingTriggers] = [Tags.Model, Tags.Trigger, Tags.Outcome],
        [Runs] = [Tags.Model, Tags.Trigger, Tags.Outcome],
        [RunDuration] = [Tags.Model, Tags.Trigger, Tags.Outcome],
        [RunStepDuration] = [Tags.Model, Tags.Step, Tags.Outcome],
        [GateVerdicts] = [Tags.Model, Tags.Passed, Tags.Check],
        [RegistryEvents] = [Tags.Model, Tags.Action],
        [StorageFailures] = [Tags.Component],
    };

    /// <summary>The product's span names: Application Insights shows them as dependencies.</summary>
    public static class Spans
    {
        /// <summary>One scored request; tags model, version, alias.</summary>
        public const string Predict = "predict";

        /// <summary>The pipeline starting a training job; tags model, run, job.</summary>
        public const string StartTrainingJob = "start training job";

        /// <summary>The trainer training one job, a child of <see cref="StartTrainingJob"/>; tags model, run, job, algorithm.</summary>
        public const string Train = "train";
    }

    /// <summary>Every span and the tags it carries.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> SpanTags = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        [Spans.Predict] = [Tags.Model, Tags.Version, Tags.Alias],
        [Spans.StartTrainingJob] = [Tags.Model, Tags.Run, Tags.Job],
        [Spans.Train] = [Tags.Model, Tags.Run, Tags.Job, Tags.Algorithm],
    };

    /// <summary>The values of the component dimension of <see cref="StorageFailures"/>.</summary>
    public static class Components
    {
        public const string PredictionLog = "prediction-log";
        public const string BatchInput = "batch-input";
        public const string Monitoring = "monitoring";
        public const string DatasetWatcher = "dataset-watcher";
        public const string Serving = "serving";
        public const string Startup = "startup";
    }

    /// <summary>The dimension names.</summary>
    public static class Tags
    {
        public const string Model = "model";
        public const string Version = "version";
        public const string Alias = "alias";
        public const string Route = "route";
        public const string Served = "served";
        public const string Kind = "kind";
        public const string Feature = "feature";
        public const string Test = "test";
        public const string Drifted = "drifted";
        public const string Status = "status";
        public const string Action = "action";
        public const string Trigger = "trigger";
        public const string Outcome = "outcome";
        public const string Step = "step";
        public const string Passed = "passed";
        public const string Check = "check";
        public const string Run = "run";
        public const string Job = "job";
        public const string Algorithm = "algorithm";
        public const string Component = "component";
    }

    /// <summary>Values of the <see cref="Tags.Kind"/> dimension of <see cref="PredictionErrors"/>.</summary>
    public static class ErrorKinds
    {
        /// <summary>The request was refused: a missing feature, a wrong type, a bad value.</summary>
        public const string BadRequest = "badRequest";

        /// <summary>The model failed to score a valid request (for example a challenger during a rollout).</summary>
        public const string Scoring = "scoring";
    }

    /// <summary>The <see cref="Tags.Alias"/> value of a request that named a version, not an alias.</summary>
    public const string NoAlias = "none";
}

/// <summary>The product's instruments and trace source, created once.</summary>
public static class Telemetry
{
    public static readonly Meter Meter = new(TelemetryNames.Meter);

    public static readonly ActivitySource Source = new(TelemetryNames.ActivitySource);

    public static readonly Counter<long> Predictions = Meter.CreateCounter<long>(TelemetryNames.Predictions, "{row}", "Rows scored");

    public static readonly Histogram<double> PredictionDuration = Meter.CreateHistogram<double>(TelemetryNames.PredictionDuration, "ms", "Time to score one request");

    public static readonly Counter<long> PredictionErrors = Meter.CreateCounter<long>(TelemetryNames.PredictionErrors, "{request}", "Requests that got no prediction");

    public static readonly Counter<long> PredictionLogDropped = Meter.CreateCounter<long>(TelemetryNames.PredictionLogDropped, "{record}", "Prediction-log records dropped");

    public static readonly Counter<long> StorageFailures = Meter.CreateCounter<long>(TelemetryNames.StorageFailures, "{failure}", "Storage failures ridden out");

    /// <summary>Counts one storage failure a component rode out.</summary>
    public static void StorageFailed(string component) => StorageFailures.Add(1, new KeyValuePair<string, object?>(TelemetryNames.Tags.Component, component));

    public static readonly Counter<long> PredictionLogWritten = Meter.CreateCounter<long>(TelemetryNames.PredictionLogWritten, "{record}", "Prediction-log records written");

    public static readonly Histogram<double> DriftStatistic = Meter.CreateHistogram<double>(TelemetryNames.DriftStatistic, null, "Drift test statistic per feature and window");

    public static readonly Histogram<double> DriftThreshold = Meter.CreateHistogram<double>(TelemetryNames.DriftThreshold, null, "Threshold of each drift test per feature");

    public static readonly Counter<long> DriftWindows = Meter.CreateCounter<long>(TelemetryNames.DriftWindows, "{window}", "Monitoring windows by status and decision");

    public static readonly Counter<long> RetrainingTriggers = Meter.CreateCounter<long>(TelemetryNames.RetrainingTriggers, "{trigger}", "Retraining triggers by kind and outcome");

    public static readonly Counter<long> Runs = Meter.CreateCounter<long>(TelemetryNames.Runs, "{run}", "Finished pipeline runs by trigger and outcome");

    public static readonly Histogram<double> RunDuration = Meter.CreateHistogram<double>(TelemetryNames.RunDuration, "s", "Duration of a finished run");

    public static readonly Histogram<double> RunStepDuration = Meter.CreateHistogram<double>(TelemetryNames.RunStepDuration, "s", "Duration of a run step");

    public static readonly Counter<long> GateVerdicts = Meter.CreateCounter<long>(TelemetryNames.GateVerdicts, "{verdict}", "Evaluation gate verdicts");

    public static readonly Counter<long> RegistryEvents = Meter.CreateCounter<long>(TelemetryNames.RegistryEvents, "{event}", "Registry events");

    /// <summary>The tags of a prediction metric.</summary>
    public static TagList PredictionTags(string model, int version, string? alias, string route) => new()
    {
        { TelemetryNames.Tags.Model, model },
        { TelemetryNames.Tags.Version, version },
        { TelemetryNames.Tags.Alias, alias ?? TelemetryNames.NoAlias },
        { TelemetryNames.Tags.Route, route },
    };
}
