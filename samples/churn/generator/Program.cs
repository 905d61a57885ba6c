using System.Globalization;
using Serverless.Samples.Churn;

// dotnet run --project samples/churn/generator -- [--rows 4000] [--seed 7] [--drifted] [--out file.csv]
var rows = 4000;
var seed = 7;
var drifted = false;
string? output = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--rows": rows = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--drifted": drifted = true; break;
        case "--out": output = args[++i]; break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: [--rows N] [--seed N] [--drifted] [--out file.csv]");
            return 2;
    }
}

if (output is null)
{
    ChurnDataGenerator.Write(Console.Out, rows, seed, drifted);
}
else
{
    using var writer = new StreamWriter(output);
    ChurnDataGenerator.Write(writer, rows, seed, drifted);
}

return 0;
