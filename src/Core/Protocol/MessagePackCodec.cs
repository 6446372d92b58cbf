using System.Buffers;
using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Serialization;
using MessagePack;
using MessagePack.Resolvers;

namespace Nursery;

/// <summary>
/// A binary codec: MessagePack (MessagePack-CSharp) with its contractless standard resolver, so plain records and
/// classes need no attributes. Faster than <see cref="JsonCodec"/> on records and on non-ASCII text (which JSON
/// escapes), and allocates nothing to encode (figures: docs/micro-benchmarks.md). Choose it with
/// <c>Body.From(function, new MessagePackCodec())</c>.
/// </summary>
/// <remarks>
/// <para>
/// Supported: primitives, strings, enums, <see cref="DateTime"/>, <see cref="TimeSpan"/>, <see cref="Guid"/>,
/// <see cref="decimal"/>, arrays, lists, dictionaries, sets, tuples, nullable values, and records, classes and
/// structs through their public fields and properties, keyed by member name (a constructor whose parameters match
/// the members by name, or a parameterless one and settable members). Types annotated with MessagePack's own
/// <c>[MessagePackObject]</c>/<c>[Key]</c> attributes or <c>[Union]</c> use those contracts.
/// </para>
/// <para>
/// Not supported, rejected when the body is built: non-public types, delegates, pointers, handles, reflection types,
/// interfaces and abstract classes without <c>[Union]</c>, types no constructor of which can be matched to the members,
/// and dictionaries or sets keyed by records (see <see cref="MessagePackSecurity.UntrustedData"/> below).
/// F# discriminated unions need MessagePack's F# resolver, which this codec does not include: use <see cref="JsonCodec"/>.
/// </para>
/// <para>
/// Every read treats the bytes as untrusted (<see cref="MessagePackSecurity.UntrustedData"/>): the bytes come from
/// another process running user code, which may be broken. This caps the nesting depth and hashes dictionary keys
/// with a collision-resistant hash; nothing on the wire names a type to create (the typeless resolver is not used).
/// </para>
/// </remarks>
public sealed class MessagePackCodec : ICodec
{
    private static readonly MessagePackSerializerOptions SharedOptions = MessagePackSerializerOptions
        .Standard.WithResolver(ContractlessStandardResolver.Instance)
        .WithSecurity(MessagePackSecurity.UntrustedData);

    // Read in the constructor so that the child host loads MessagePack into its default load context when it creates
    // the codec, before the user's assembly asks for it: both then share one copy of MessagePack's attribute types.
    private readonly MessagePackSerializerOptions _options = SharedOptions;

    /// <inheritdoc />
    public void Serialize<T>(T value, IBufferWriter<byte> output) => MessagePackSerializer.Serialize(output, value, _options);

    /// <inheritdoc />
    /// <exception cref="MessagePackSerializationException">The bytes are not one MessagePack value of <typeparamref name="T"/>, or bytes follow it.</exception>
    public T Deserialize<T>(in ReadOnlySequence<byte> input)
    {
        var reader = new MessagePackReader(input);
        var value = MessagePackSerializer.Deserialize<T>(ref reader, _options);
        if (!reader.End)
            throw new MessagePackSerializationException($"{reader.Sequence.Length - reader.Consumed} bytes follow the {typeof(T)} value.");
        return value;
    }

    /// <inheritdoc />
    /// <remarks>Checks the type, and every type reachable from it through generic arguments, array elements and the serialized members of records and classes.</remarks>
    public void EnsureSupported(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        EnsureSupported(type, type, new HashSet<Type>());
    }

    private void EnsureSupported(Type root, Type type, HashSet<Type> seen)
    {
        if (!seen.Add(type))
            return;
        var where = type == root ? "" : $" (reached from {root})";
        if (typeof(Delegate).IsAssignableFrom(type) || type == typeof(IntPtr) || type == typeof(UIntPtr) || type.IsPointer || type.IsByRef || typeof(Type).IsAssignableFrom(type) || typeof(MemberInfo).IsAssignableFrom(type))
            throw new NotSupportedException($"{type}{where} cannot be sent to a child process: it is a handle to something that lives only in this process.");
        if (type.ContainsGenericParameters)
            throw new NotSupportedException($"{type}{where} is an open generic type; give a concrete type.");

        if (!type.IsVisible)
            throw new NotSupportedException($"{type}{where} is not public, and MessagePack builds formatters only for public types (a nested type's enclosing types must be public too). Make it public, or use JsonCodec.");

        object? formatter;
        try
        {
            formatter = _options.Resolver.GetFormatterDynamic(type);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            var reason = exception;
            while (reason is TargetInvocationException or TypeInitializationException && reason.InnerException is not null)
                reason = reason.InnerException;
            throw new NotSupportedException(
                $"{type}{where} cannot be encoded as MessagePack: {reason.Message.TrimEnd('.', ' ')}. Give it a public constructor whose parameters match its public properties by name (a positional record does), or a parameterless constructor and settable properties; or use JsonCodec.",
                reason
            );
        }
        if (formatter is null)
        {
            var advice = type.IsInterface || type.IsAbstract
                ? "an interface or abstract class needs MessagePack's [Union] attributes naming its implementations; or use a concrete type, or JsonCodec"
                : "use a record or class with public properties, a primitive, or a collection of those; or JsonCodec";
            throw new NotSupportedException($"{type}{where} cannot be encoded as MessagePack: no formatter for it ({advice}).");
        }

        EnsureKeysCanBeHashed(type, where);
        if (type.IsArray)
            EnsureSupported(root, type.GetElementType()!, seen);
        if (type.IsGenericType)
        {
            foreach (var argument in type.GetGenericArguments())
                EnsureSupported(root, argument, seen);
        }
        // Formatters emitted for records and classes (in a dynamic assembly) resolve their members' formatters only
        // when a value is first written: check those members now, as the resolver will see them.
        if (formatter.GetType().Assembly.IsDynamic)
        {
            foreach (var member in SerializedMembers(type))
                EnsureSupported(root, member, seen);
        }
    }

    /// <summary>
    /// Untrusted reads build dictionaries and sets with a collision-resistant hash, which MessagePack has only for
    /// primitives, strings, enums, <see cref="Guid"/>, <see cref="DateTime"/> and the like: a record as a key would
    /// fail on the first item, so it fails here.
    /// </summary>
    private static void EnsureKeysCanBeHashed(Type type, string where)
    {
        if (type.IsGenericType && SortedCollections.Contains(type.GetGenericTypeDefinition()))
            return;
        var keys = (type.IsInterface ? type.GetInterfaces().Append(type) : type.GetInterfaces())
            .Where(candidate => candidate.IsGenericType && HashedCollections.Contains(candidate.GetGenericTypeDefinition()))
            .Select(collection => collection.GetGenericArguments()[0])
            .Distinct();
        foreach (var key in keys)
        {
            try
            {
                _ = EqualityComparerOf.MakeGenericMethod(key).Invoke(MessagePackSecurity.UntrustedData, null);
            }
            catch (TargetInvocationException exception) when (exception.InnerException is TypeAccessException)
            {
                throw new NotSupportedException(
                    $"{type}{where} has keys of type {key}, which MessagePack does not hash when it reads untrusted bytes. Use keys of a primitive type, string, enum, Guid or DateTime (for example a string made from the key), or a list of pairs; or use JsonCodec.",
                    exception.InnerException
                );
            }
        }
    }

    private static readonly MethodInfo EqualityComparerOf = typeof(MessagePackSecurity).GetMethods().Single(method => method.Name == nameof(MessagePackSecurity.GetEqualityComparer) && method.IsGenericMethodDefinition);

    private static readonly HashSet<Type> HashedCollections = [typeof(IDictionary<,>), typeof(IReadOnlyDictionary<,>), typeof(ISet<>), typeof(IReadOnlySet<>), typeof(ILookup<,>)];

    private static readonly HashSet<Type> SortedCollections = [typeof(SortedDictionary<,>), typeof(SortedList<,>), typeof(SortedSet<>), typeof(ImmutableSortedDictionary<,>), typeof(ImmutableSortedSet<>)];

    /// <summary>The types of the members the contractless resolver writes: public instance fields and readable, non-indexed properties not marked to be ignored.</summary>
    private static IEnumerable<Type> SerializedMembers(Type type)
    {
        const BindingFlags Public = BindingFlags.Public | BindingFlags.Instance;
        foreach (var field in type.GetFields(Public))
        {
            if (!Ignored(field))
                yield return field.FieldType;
        }
        foreach (var property in type.GetProperties(Public))
        {
            if (property.GetMethod is { IsPublic: true } && property.GetIndexParameters().Length == 0 && !Ignored(property))
                yield return property.PropertyType;
        }
    }

    private static bool Ignored(MemberInfo member) => member.IsDefined(typeof(IgnoreMemberAttribute), inherit: true) || member.IsDefined(typeof(IgnoreDataMemberAttribute), inherit: true);
}
