namespace Nursery.TestBodies;

/// <summary>Bodies whose items are plain records, lists and dictionaries, run with the MessagePack codec.</summary>
public static class BinaryBodies
{
    /// <summary>A shipment of the order: nested records, a dictionary and nulls go back to the parent.</summary>
    public static Shipment Ship(Order order) =>
        new(
            order.Id,
            [.. order.Tags.Select((tag, index) => new Parcel(tag, index + 1, index == 0 ? null : $"after {order.Tags[index - 1]}"))],
            new Dictionary<string, int> { ["quantity"] = order.Quantity, ["tags"] = order.Tags.Count },
            order.Quantity > 0 ? order.Quantity * 2.5 : null
        );

    /// <summary>Rows become columns: nested lists both ways.</summary>
    public static List<List<int>> Transpose(List<List<int>> rows) =>
        rows.Count == 0 ? [] : [.. Enumerable.Range(0, rows[0].Count).Select(column => rows.Select(row => row[column]).ToList())];

    /// <summary>The text and its length, as the child saw it.</summary>
    public static Measured Measure(string text) => new(text, text.Length);

    /// <summary>A body that breaks its promise of a value.</summary>
    public static string ReturnsNull(int x) => null!;
}

public sealed record Parcel(string Label, int Number, string? Note);

public sealed record Shipment(string OrderId, IReadOnlyList<Parcel> Parcels, Dictionary<string, int> Counts, double? Weight);

public sealed record Measured(string Text, int Length);
