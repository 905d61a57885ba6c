using System.Diagnostics.Metrics;

namespace Serverless.Lifecycle.Observability;

/// <summary>
/// The product's metric names, in one place: dashboards and workbooks query exactly these.
/// </summary>
public static class TelemetryNames
{
    public const string Meter = "Serverless.Lifecycle";

    /// <summary>Prediction-log records dropped because the buffer was full or storage refused them.</summary>
    public const string PredictionLogDropped = "lifecycle.prediction_log.dropped";

    /// <summary>Prediction-log records written to storage.</summary>
    public const string PredictionLogWritten = "lifecycle.prediction_log.written";

    /// <summary>Each drift test's statistic per feature and window; tags model, version, feature, test, drifted.</summary>
    public const string DriftStatistic = "lifecycle.drift.statistic";

    /// <summary>Monitoring windows by outcome; tags model, status, action.</summary>
    public const string DriftWindows = "lifecycle.drift.windows";

    /// <summary>Retraining triggers; tags model, trigger, outcome (started, coalesced).</summary>
    public const string RetrainingTriggers = "lifecycle.retraining.triggers";
}

/// <summary>The product's instruments, created once.</summary>
public static class Telemetry
{
    public static readonly Meter Meter = new(TelemetryNames.Meter);

    public static readonly Counter<long> PredictionLogDropped = Meter.CreateCounter<long>(TelemetryNames.PredictionLogDropped, "{record}", "Prediction-log records dropped");

    public static readonly Counter<long> PredictionLogWritten = Meter.CreateCounter<long>(TelemetryNames.PredictionLogWritten, "{record}", "Prediction-log records written");

    public static readonly Histogram<double> DriftStatistic = Meter.CreateHistogram<double>(TelemetryNames.DriftStatistic, null, "Drift test statistic per feature and window");

    public static readonly Counter<long> DriftWindows = Meter.CreateCounter<long>(TelemetryNames.DriftWindows, "{window}", "Monitoring windows by status and decision");

    public static readonly Counter<long> RetrainingTriggers = Meter.CreateCounter<long>(TelemetryNames.RetrainingTriggers, "{trigger}", "Retraining triggers by kind and outcome");
}
