using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Nursery.Protocol;

/// <summary>
/// What a JSON codec needs to know of F# types without referencing FSharp.Core: the F# compiler marks a union type
/// with <c>[CompilationMapping(SourceConstructFlags.SumType)]</c>. System.Text.Json writes F# options, value options
/// and lists itself, but for any other union its converter only throws, item by item, when a value is written.
/// </summary>
internal static class FSharpTypes
{
    private const string CompilationMapping = "Microsoft.FSharp.Core.CompilationMappingAttribute";

    /// <summary>SourceConstructFlags.SumType, under SourceConstructFlags.KindMask.</summary>
    private const int SumType = 1;

    private const int KindMask = 31;

    /// <summary>The unions System.Text.Json writes with converters of its own.</summary>
    private static readonly string[] WrittenBySystemTextJson = ["Microsoft.FSharp.Core.FSharpOption`1", "Microsoft.FSharp.Core.FSharpValueOption`1", "Microsoft.FSharp.Collections.FSharpList`1"];

    /// <summary>Whether <paramref name="type"/> is an F# union that <paramref name="info"/> has no working converter for.</summary>
    public static bool IsUnionWithoutConverter(Type type, JsonTypeInfo info)
    {
        if (!IsUnion(type))
            return false;
        // A converter from elsewhere (FSharp.SystemTextJson's, the user's) writes it; System.Text.Json's own only throws.
        if (info.Converter.GetType().Assembly != typeof(JsonSerializer).Assembly)
            return false;
        return !(type.IsGenericType && WrittenBySystemTextJson.Contains(type.GetGenericTypeDefinition().FullName));
    }

    private const string CompilationRepresentation = "Microsoft.FSharp.Core.CompilationRepresentationAttribute";

    /// <summary>CompilationRepresentationFlags.UseNullAsTrueValue.</summary>
    private const int UseNullAsTrueValue = 8;

    /// <summary>
    /// Whether a value of <paramref name="type"/> is null at run time for one of its cases, as F#'s <c>None</c> is
    /// (<c>[CompilationRepresentation(UseNullAsTrueValue)]</c>).
    /// </summary>
    public static bool HasNullCase(Type type)
    {
        foreach (var attribute in type.CustomAttributes)
        {
            if (attribute.AttributeType.FullName == CompilationRepresentation && attribute.ConstructorArguments is [{ Value: int flags }, ..])
                return (flags & UseNullAsTrueValue) != 0;
        }
        return false;
    }

    /// <summary>Whether <paramref name="type"/> is an F# union type (not one of its cases).</summary>
    public static bool IsUnion(Type type)
    {
        foreach (var attribute in type.CustomAttributes)
        {
            if (attribute.AttributeType.FullName == CompilationMapping && attribute.ConstructorArguments is [{ Value: int flags }, ..])
                return (flags & KindMask) == SumType;
        }
        return false;
    }
}
