using System.Globalization;
using System.Text;

namespace Serverless.Samples.Churn;

/// <summary>
/// Customer churn data with a real but noisy signal: short tenure, month-to-month contracts,
/// fiber internet, electronic checks, high charges and many support calls raise the odds of
/// churn. Seeded, so the same arguments always give the same file. The drifted variant shifts
/// tenure down, charges up and the mix of services, as a market change would.
/// </summary>
public static class ChurnDataGenerator
{
    public static readonly string[] Contracts = ["month-to-month", "one-year", "two-year"];
    public static readonly string[] InternetServices = ["dsl", "fiber", "none"];
    public static readonly string[] PaymentMethods = ["card", "bank-transfer", "electronic-check", "mailed-check"];

    public const string Header = "customer_id,tenure_months,monthly_charges,support_calls,contract,internet_service,payment_method,churned";

    public static void Write(TextWriter output, int rows, int seed, bool drifted = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        var random = new Random(seed);
        output.WriteLine(Header);
        for (var i = 0; i < rows; i++)
        {
            var tenure = Math.Clamp((int)Math.Round(Exponential(random, drifted ? 14 : 26)), 0, 72);
            var contract = Pick(random, Contracts, drifted ? [0.7, 0.2, 0.1] : [0.5, 0.28, 0.22]);
            var internet = Pick(random, InternetServices, drifted ? [0.25, 0.65, 0.10] : [0.38, 0.42, 0.20]);
            var payment = Pick(random, PaymentMethods, [0.3, 0.25, 0.3, 0.15]);
            var charges = Math.Clamp(
                (internet == "fiber" ? 80 : internet == "dsl" ? 55 : 25) + Normal(random) * 12 + (drifted ? 12 : 0), 18, 125);
            var calls = Math.Clamp(Poisson(random, 1.2 + (contract == "month-to-month" ? 0.8 : 0)), 0, 10);

            var logit = -0.6
                - 0.045 * tenure
                + 0.022 * (charges - 60)
                + 0.38 * calls
                + contract switch { "month-to-month" => 1.1, "one-year" => -0.1, _ => -1.3 }
                + (internet == "fiber" ? 0.45 : 0)
                + (payment == "electronic-check" ? 0.5 : 0)
                + Normal(random) * 0.8;
            var churned = random.NextDouble() < 1 / (1 + Math.Exp(-logit));

            // About 1% of charges are missing, as in real billing extracts.
            var chargesText = random.NextDouble() < 0.01 ? "" : charges.ToString("F2", CultureInfo.InvariantCulture);
            output.WriteLine(string.Join(
                ',',
                $"c{seed:D3}-{i:D6}",
                tenure.ToString(CultureInfo.InvariantCulture),
                chargesText,
                calls.ToString(CultureInfo.InvariantCulture),
                contract,
                internet,
                payment,
                churned ? "1" : "0"));
        }
    }

    public static string Generate(int rows, int seed, bool drifted = false)
    {
        var builder = new StringBuilder();
        using (var writer = new StringWriter(builder, CultureInfo.InvariantCulture))
        {
            Write(writer, rows, seed, drifted);
        }

        return builder.ToString();
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static double Exponential(Random random, double mean) => -mean * Math.Log(1 - random.NextDouble());

    private static int Poisson(Random random, double lambda)
    {
        var limit = Math.Exp(-lambda);
        var product = random.NextDouble();
        var count = 0;
        while (product > limit)
        {
            product *= random.NextDouble();
            count++;
        }

        return count;
    }

    private static string Pick(Random random, string[] values, double[] weights)
    {
        var u = random.NextDouble();
        for (var i = 0; i < values.Length; i++)
        {
            u -= weights[i];
            if (u < 0)
            {
                return values[i];
            }
        }

        return values[^1];
    }
}
