namespace Nursery.Dataflow.Tests.Properties;

/// <summary>What runs a stage's items: a .NET body in child hosts, an <c>sh</c> per item, or a persistent Python worker.</summary>
public enum StageKind
{
    Dotnet,
    PerItem,
    Persistent,
}
