namespace Nursery.Etl.Bodies;

/// <summary>One line of the input file: its 0-based index (the item's key) and its text.</summary>
public sealed record Line(long Index, string Text);

/// <summary>A customer as it appears, nested, in an order.</summary>
public sealed record Customer(string Id, string Name, string Country);

/// <summary>One line of an order.</summary>
public sealed record OrderLine(string Sku, int Quantity, decimal UnitPrice);

/// <summary>An order that parsed and passed validation.</summary>
public sealed record Order(string Id, DateTimeOffset Created, Customer Customer, string Currency, IReadOnlyList<OrderLine> Lines);

/// <summary>
/// What the parse stage makes of a line: an <see cref="Order"/>, or the reason it was rejected. A malformed line is
/// data (it becomes a row of the rejects table), not a failure: failures are what happens to the process.
/// </summary>
public sealed record Parsed(long Index, Order? Order, string? Reject, string? Raw);

/// <summary>An order ready for the database: totals computed, converted to EUR, region looked up.</summary>
public sealed record OrderRow(string Id, string Created, string CustomerId, string CustomerName, string Country, string Region, string Currency, int LineCount, int Units, long TotalCents, long TotalEurCents);

/// <summary>What the convert stage hands the writer: an order row, or a rejected line.</summary>
public sealed record Row(long Index, OrderRow? Order, string? Reject, string? Raw);
