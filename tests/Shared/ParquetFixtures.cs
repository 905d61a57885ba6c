using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace Serverless.Tests;

/// <summary>The sample churn CSV written as Parquet by Parquet.Net: doubles, a nullable int, strings and an int label.</summary>
public static class ParquetFixtures
{
    public static async Task<byte[]> FromChurnCsvAsync(string csv, int rowGroupSize = 500)
    {
        var rows = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(r => r.TrimEnd('\r').Split(',')).ToArray();
        var id = new DataField<string>("customer_id");
        var tenure = new DataField<double>("tenure_months");
        var charges = new DataField<double?>("monthly_charges");
        var calls = new DataField<int?>("support_calls");
        var contract = new DataField<string>("contract");
        var internet = new DataField<string>("internet_service");
        var payment = new DataField<string>("payment_method");
        var label = new DataField<int>("churned");
        var schema = new ParquetSchema(id, tenure, charges, calls, contract, internet, payment, label);

        using var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(schema, stream))
        {
            foreach (var chunk in rows.Chunk(rowGroupSize))
            {
                using var group = writer.CreateRowGroup();
                await group.WriteAsync(id, chunk.Select(r => r[0]).ToArray());
                await group.WriteAsync<double>(tenure, new ReadOnlyMemory<double>(chunk.Select(r => double.Parse(r[1], CultureInfo.InvariantCulture)).ToArray()));
                await group.WriteAsync<double>(charges, new ReadOnlyMemory<double?>(chunk.Select(r => r[2].Length == 0 ? (double?)null : double.Parse(r[2], CultureInfo.InvariantCulture)).ToArray()));
                await group.WriteAsync<int>(calls, new ReadOnlyMemory<int?>(chunk.Select(r => (int?)int.Parse(r[3], CultureInfo.InvariantCulture)).ToArray()));
                await group.WriteAsync(contract, chunk.Select(r => r[4]).ToArray());
                await group.WriteAsync(internet, chunk.Select(r => r[5]).ToArray());
                await group.WriteAsync(payment, chunk.Select(r => r[6]).ToArray());
                await group.WriteAsync<int>(label, new ReadOnlyMemory<int>(chunk.Select(r => int.Parse(r[7], CultureInfo.InvariantCulture)).ToArray()));
            }
        }

        return stream.ToArray();
    }
}
