namespace Serverless.Lifecycle.Monitoring;

/// <summary>Distribution distances between a baseline and a current sample, shared by validation (skew) and monitoring (drift).</summary>
public static class DriftStatistics
{
    /// <summary>
    /// Share given to an empty bin so the logarithm stays finite: 1e-4, the usual choice for
    /// PSI (a bin empty on one side then contributes about its other share × 9.2).
    /// </summary>
    public const double PsiEpsilon = 1e-4;

    /// <summary>
    /// Population stability index over matching bins: Σ (current − baseline) · ln(current / baseline),
    /// on shares, with <see cref="PsiEpsilon"/> for empty bins. 0 for identical distributions;
    /// above 0.25 is commonly read as a major shift.
    /// </summary>
    public static double Psi(IReadOnlyList<long> baseline, IReadOnlyList<long> current)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(current);
        if (baseline.Count != current.Count)
        {
            throw new ArgumentException($"PSI needs the same bins on both sides; got {baseline.Count} and {current.Count}.", nameof(current));
        }

        double baselineTotal = baseline.Sum();
        double currentTotal = current.Sum();
        if (baselineTotal == 0 || currentTotal == 0)
        {
            return double.NaN;
        }

        var psi = 0.0;
        for (var i = 0; i < baseline.Count; i++)
        {
            var expected = Math.Max(baseline[i] / baselineTotal, PsiEpsilon);
            var actual = Math.Max(current[i] / currentTotal, PsiEpsilon);
            psi += (actual - expected) * Math.Log(actual / expected);
        }

        return psi;
    }
}
