namespace Nursery.Protocol;

/// <summary>The protocol version both sides must agree on in the handshake.</summary>
internal static class ProtocolVersion
{
    public const string Magic = "nursery";
    public const int Current = 2;
}

/// <summary>The child's first frame: proves the channel is clean and says who it is and where (host, Slurm job; empty when not known).</summary>
internal sealed record HelloMessage(string Magic, int Version, int ProcessId, string Runtime, string Host = "", string JobId = "");

/// <summary>Where a method lives, so the child can find it without the parent's types.</summary>
/// <param name="AssemblyPath">Full path of the compiled assembly.</param>
/// <param name="TypeName">The declaring type's full name (nested types with '+').</param>
/// <param name="MethodName">The method's name, checked against what the token resolves to.</param>
/// <param name="MetadataToken">The method's metadata token: exact even for overloads and compiler-generated lambdas.</param>
/// <param name="IsStatic">False for a lambda on a stateless compiler-generated object, which the child re-creates.</param>
/// <param name="ModuleVersionId">
/// The build of the assembly the parent holds (its module's version id, "N" format). When the child loads the same
/// build, the token alone names the method, without comparing names (decoding names from metadata is slow in a fresh
/// child); another build, or none given, is checked by name.
/// </param>
internal sealed record MethodSpec(string AssemblyPath, string TypeName, string MethodName, int MetadataToken, bool IsStatic, string ModuleVersionId = "")
{
    public override string ToString() => $"{TypeName}.{MethodName} in {AssemblyPath}";
}

/// <summary>Parent → child: what to run and how.</summary>
/// <param name="Body">The body's method.</param>
/// <param name="Initializer">The initializer's method, if any.</param>
/// <param name="StateJson">The initializer's state, as JSON.</param>
/// <param name="HeartbeatMilliseconds">How often the child sends a heartbeat.</param>
/// <param name="CodecType">The codec's assembly-qualified type name.</param>
/// <param name="ProgressPath">A progress slot's file to map (<see cref="ProgressSlotLayout"/>), so the child may batch its replies; null: reply item by item.</param>
/// <param name="MaxResultBytes">The largest encoded result the parent accepts (<see cref="WorkerOptions.MaxResultBytes"/>); 0: <see cref="FrameBounds.DefaultMaxResultBytes"/>.</param>
internal sealed record InitMessage(MethodSpec Body, MethodSpec? Initializer, string? StateJson, int HeartbeatMilliseconds, string CodecType, string? ProgressPath = null, int MaxResultBytes = 0);

/// <summary>An error not tied to an item.</summary>
internal sealed record ErrorMessage(string Phase, RemoteError Error);
