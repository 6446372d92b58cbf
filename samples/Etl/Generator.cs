using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Nursery.Etl;

/// <summary>Writes a realistic orders file: one JSON order a line, nested customer and lines, about 1 in 200 lines malformed.</summary>
internal static class Generator
{
    private static readonly (string Country, string Currency)[] Markets =
        [("DE", "EUR"), ("FR", "EUR"), ("NL", "EUR"), ("GB", "GBP"), ("CH", "CHF"), ("SE", "SEK"), ("US", "USD"), ("CA", "USD"), ("BR", "USD"), ("JP", "JPY"), ("AU", "USD"), ("SG", "USD")];

    private static readonly string[] Names = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Edsger", "Radia", "Tony", "Hedy"];

    private static readonly string[] Products = ["kettle", "lamp", "chair", "desk", "mug", "notebook", "pen", "monitor", "cable", "headset"];

    public static void Write(string path, int count, int seed)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var random = new Random(seed);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        for (var i = 0; i < count; i++)
        {
            var (country, currency) = Markets[random.Next(Markets.Length)];
            var customer = random.Next(1, 5000);
            var order = new
            {
                id = $"ORD-{i + 1:D7}",
                created = start.AddSeconds(i * 37 + random.Next(37)).ToString("O", CultureInfo.InvariantCulture),
                customer = new { id = $"C{customer:D5}", name = $"{Names[customer % Names.Length]} {(char)('A' + customer % 26)}.", country },
                currency,
                lines = Enumerable.Range(0, random.Next(1, 6)).Select(_ => new
                {
                    sku = $"{Products[random.Next(Products.Length)]}-{random.Next(100):D2}",
                    quantity = random.Next(1, 10),
                    unitPrice = Math.Round((decimal)(random.NextDouble() * 200 + 1), 2),
                }).ToArray(),
                notes = random.Next(10) == 0 ? "gift wrap, please" : null,
            };
            var line = JsonSerializer.Serialize(order);
            writer.WriteLine(random.Next(200) == 0 ? Damage(line, random) : line);
        }
    }

    /// <summary>The kinds of bad lines real exports contain: cut off, an unknown currency, a negative quantity, not JSON at all.</summary>
    private static string Damage(string line, Random random) =>
        random.Next(4) switch
        {
            0 => line[..(line.Length / 2)],
            1 => line.Replace("\"currency\":\"", "\"currency\":\"X", StringComparison.Ordinal),
            2 => line.Replace("\"quantity\":", "\"quantity\":-", StringComparison.Ordinal),
            _ => "<html>502 Bad Gateway</html>",
        };
}
