using System.Globalization;
using System.Text.Json;

namespace Nursery.Etl.Bodies;

/// <summary>The two child-process stages of the sample: parse and validate a JSONL line, then convert and enrich an order.</summary>
public static class Orders
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, decimal> EurPerUnit = new(StringComparer.Ordinal)
    {
        ["EUR"] = 1m,
        ["USD"] = 0.92m,
        ["GBP"] = 1.17m,
        ["CHF"] = 1.05m,
        ["SEK"] = 0.087m,
        ["JPY"] = 0.0062m,
    };

    private static readonly Dictionary<string, string> Regions = new(StringComparer.Ordinal)
    {
        ["DE"] = "EMEA", ["FR"] = "EMEA", ["GB"] = "EMEA", ["CH"] = "EMEA", ["SE"] = "EMEA", ["NL"] = "EMEA",
        ["US"] = "AMER", ["CA"] = "AMER", ["BR"] = "AMER", ["MX"] = "AMER",
        ["JP"] = "APAC", ["AU"] = "APAC", ["IN"] = "APAC", ["SG"] = "APAC",
    };

    /// <summary>Initializer of the parse stage's children: takes the fault plan (and fails to start if the plan says so).</summary>
    public static void Initialize(FaultPlan plan) => Faults.Install(plan);

    /// <summary>Parses and validates one JSONL line. Bad data is a reject; injected faults happen here, in the child.</summary>
    public static Parsed Parse(Line line)
    {
        ArgumentNullException.ThrowIfNull(line);
        Faults.Apply(line.Index);
        Order? order;
        try
        {
            order = JsonSerializer.Deserialize<Order>(line.Text, Json);
        }
        catch (JsonException exception)
        {
            return Rejected(line, $"not JSON: {exception.Message.Split('.')[0]}");
        }
        var problem = order is null ? "empty record" : Validate(order);
        return problem is null ? new Parsed(line.Index, order, null, null) : Rejected(line, problem);
    }

    /// <summary>Computes totals, converts to EUR and adds the region. A reject passes through untouched.</summary>
    public static Row Convert(Parsed parsed)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        if (parsed.Order is not { } order)
            return new Row(parsed.Index, null, parsed.Reject, parsed.Raw);
        var total = order.Lines.Sum(l => l.Quantity * l.UnitPrice);
        var units = order.Lines.Sum(l => l.Quantity);
        var row = new OrderRow(
            order.Id,
            order.Created.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
            order.Customer.Id,
            order.Customer.Name,
            order.Customer.Country,
            Regions.GetValueOrDefault(order.Customer.Country, "OTHER"),
            order.Currency,
            order.Lines.Count,
            units,
            (long)Math.Round(total * 100m, MidpointRounding.ToEven),
            (long)Math.Round(total * EurPerUnit[order.Currency] * 100m, MidpointRounding.ToEven)
        );
        return new Row(parsed.Index, row, null, null);
    }

    private static string? Validate(Order order)
    {
        if (string.IsNullOrWhiteSpace(order.Id))
            return "missing id";
        if (order.Customer is null || string.IsNullOrWhiteSpace(order.Customer.Id))
            return "missing customer";
        if (order.Currency is null || !EurPerUnit.ContainsKey(order.Currency))
            return $"unknown currency '{order.Currency}'";
        if (order.Lines is null || order.Lines.Count == 0)
            return "no lines";
        foreach (var line in order.Lines)
        {
            if (line.Quantity <= 0)
                return $"line {line.Sku}: quantity {line.Quantity}";
            if (line.UnitPrice < 0)
                return $"line {line.Sku}: negative price";
        }
        return null;
    }

    private static Parsed Rejected(Line line, string reason) => new(line.Index, null, reason, line.Text.Length > 200 ? line.Text[..200] : line.Text);
}
