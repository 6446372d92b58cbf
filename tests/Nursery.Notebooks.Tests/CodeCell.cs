namespace Nursery.Notebooks.Tests;

/// <summary>One code cell: its number among the code cells, its kernel ("fsharp", "csharp") and its source.</summary>
public sealed record CodeCell(int Number, string Language, string Source);
