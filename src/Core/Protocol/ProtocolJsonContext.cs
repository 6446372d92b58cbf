namespace Nursery.Protocol;

/// <summary>Source-generated JSON metadata for control frames: no reflection on the way to the first child's Ready (the child host itself reads and writes its side by hand: HandshakeJson).</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(HelloMessage))]
[System.Text.Json.Serialization.JsonSerializable(typeof(InitMessage))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ErrorMessage))]
[System.Text.Json.Serialization.JsonSerializable(typeof(RemoteError))]
internal sealed partial class ProtocolJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
