namespace Serverless.Lifecycle.Statistics;

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

    /// <summary>
    /// The two-sample Kolmogorov-Smirnov test: the largest distance between the two empirical
    /// CDFs (ties handled: both CDFs step past a repeated value together), and its p-value from
    /// the asymptotic Kolmogorov distribution at √(n·m/(n+m))·D (scipy's <c>kstwobign</c>). For
    /// the sample sizes of monitoring windows this is what scipy's <c>ks_2samp</c> reports; for a
    /// handful of values it is an approximation (scipy then computes an exact distribution).
    /// </summary>
    public static (double Statistic, double PValue) KolmogorovSmirnov(IReadOnlyList<double> baseline, IReadOnlyList<double> current)
    {
        var (a, b) = Sorted(baseline, current);
        var (i, j) = (0, 0);
        var d = 0.0;
        while (i < a.Length && j < b.Length)
        {
            var value = Math.Min(a[i], b[j]);
            while (i < a.Length && a[i] == value)
            {
                i++;
            }

            while (j < b.Length && b[j] == value)
            {
                j++;
            }

            d = Math.Max(d, Math.Abs(((double)i / a.Length) - ((double)j / b.Length)));
        }

        var effective = (double)a.Length * b.Length / (a.Length + b.Length);
        return (d, KolmogorovSurvival(Math.Sqrt(effective) * d));
    }

    /// <summary>
    /// P(K &gt; x) for the Kolmogorov distribution. Written here because no served .NET library
    /// has it: the alternating series 2 Σ (−1)^(k−1) e^(−2k²x²) for x ≥ 1, and the Jacobi-theta
    /// form 1 − √(2π)/x Σ e^(−(2k−1)²π²/(8x²)) below, where the first converges slowly.
    /// </summary>
    public static double KolmogorovSurvival(double x)
    {
        if (x <= 0)
        {
            return 1;
        }

        if (x < 1)
        {
            var sum = 0.0;
            for (var k = 1; k <= 20; k++)
            {
                var odd = (2 * k) - 1;
                sum += Math.Exp(-odd * odd * Math.PI * Math.PI / (8 * x * x));
            }

            return Math.Clamp(1 - (Math.Sqrt(2 * Math.PI) / x * sum), 0, 1);
        }

        var series = 0.0;
        for (var k = 1; k <= 100; k++)
        {
            var term = Math.Exp(-2.0 * k * k * x * x);
            series += (k % 2 == 1 ? term : -term);
            if (term < 1e-17)
            {
                break;
            }
        }

        return Math.Clamp(2 * series, 0, 1);
    }

    /// <summary>
    /// The Wasserstein-1 (earth mover's) distance between two samples: the area between their
    /// empirical CDFs, in the feature's own units (scipy's <c>wasserstein_distance</c>). Divide by
    /// the baseline's spread to compare features.
    /// </summary>
    public static double Wasserstein(IReadOnlyList<double> baseline, IReadOnlyList<double> current)
    {
        var (a, b) = Sorted(baseline, current);
        var all = a.Concat(b).Order().ToArray();
        var (i, j) = (0, 0);
        var area = 0.0;
        for (var k = 0; k < all.Length - 1; k++)
        {
            while (i < a.Length && a[i] <= all[k])
            {
                i++;
            }

            while (j < b.Length && b[j] <= all[k])
            {
                j++;
            }

            area += Math.Abs(((double)i / a.Length) - ((double)j / b.Length)) * (all[k + 1] - all[k]);
        }

        return area;
    }

    /// <summary>
    /// The Jensen-Shannon distance between two binned distributions (counts over the same bins,
    /// categories or histogram bins): the square root of the mean KL divergence to their mixture,
    /// natural log (scipy's <c>jensenshannon</c>). 0 for identical shares, at most √ln 2.
    /// Empty bins need no epsilon: 0 · ln 0 is 0.
    /// </summary>
    public static double JensenShannon(IReadOnlyList<long> baseline, IReadOnlyList<long> current)
    {
        var (p, q) = Shares(baseline, current);
        var divergence = 0.0;
        for (var k = 0; k < p.Length; k++)
        {
            var m = (p[k] + q[k]) / 2;
            divergence += (Entropy(p[k], m) + Entropy(q[k], m)) / 2;
        }

        return Math.Sqrt(Math.Max(divergence, 0));

        static double Entropy(double x, double m) => x > 0 ? x * Math.Log(x / m) : 0;
    }

    /// <summary>
    /// Pearson's chi-square test that baseline and current counts come from one distribution (a
    /// 2 × k contingency table without continuity correction, scipy's <c>chi2_contingency(...,
    /// correction=False)</c>). A category seen on one side only is just another column; bins
    /// empty on both sides are left out.
    /// </summary>
    public static (double Statistic, double PValue, int DegreesOfFreedom) ChiSquare(IReadOnlyList<long> baseline, IReadOnlyList<long> current)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(current);
        if (baseline.Count != current.Count)
        {
            throw new ArgumentException($"The chi-square test needs the same categories on both sides; got {baseline.Count} and {current.Count}.", nameof(current));
        }

        var columns = Enumerable.Range(0, baseline.Count).Where(k => baseline[k] + current[k] > 0).ToList();
        double rowA = columns.Sum(k => baseline[k]);
        double rowB = columns.Sum(k => current[k]);
        var total = rowA + rowB;
        if (columns.Count < 2 || rowA == 0 || rowB == 0)
        {
            return (0, 1, Math.Max(columns.Count - 1, 0));
        }

        var statistic = 0.0;
        foreach (var k in columns)
        {
            var column = baseline[k] + current[k];
            var expectedA = rowA * column / total;
            var expectedB = rowB * column / total;
            statistic += (Math.Pow(baseline[k] - expectedA, 2) / expectedA) + (Math.Pow(current[k] - expectedB, 2) / expectedB);
        }

        var dof = columns.Count - 1;
        return (statistic, 1 - MathNet.Numerics.Distributions.ChiSquared.CDF(dof, statistic), dof);
    }

    private static (double[] A, double[] B) Sorted(IReadOnlyList<double> baseline, IReadOnlyList<double> current)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(current);
        if (baseline.Count == 0 || current.Count == 0)
        {
            throw new ArgumentException($"Both samples need values; got {baseline.Count} and {current.Count}.", nameof(current));
        }

        var a = baseline.ToArray();
        var b = current.ToArray();
        Array.Sort(a);
        Array.Sort(b);
        return (a, b);
    }

    private static (double[] P, double[] Q) Shares(IReadOnlyList<long> baseline, IReadOnlyList<long> current)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(current);
        if (baseline.Count != current.Count)
        {
            throw new ArgumentException($"Both distributions need the same bins; got {baseline.Count} and {current.Count}.", nameof(current));
        }

        double totalA = baseline.Sum();
        double totalB = current.Sum();
        if (totalA == 0 || totalB == 0)
        {
            throw new ArgumentException("Both distributions need at least one count.", nameof(current));
        }

        return (baseline.Select(c => c / totalA).ToArray(), current.Select(c => c / totalB).ToArray());
    }
}
