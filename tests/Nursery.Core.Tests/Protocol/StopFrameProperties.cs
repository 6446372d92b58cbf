using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Nursery.Protocol.Tests;

/// <summary>What a Stop frame guarantees: the ids the parent writes decode back in order, and any other bytes are refused without throwing.</summary>
public sealed class StopFrameProperties
{
    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property Ids_written_in_a_Stop_frame_decode_back_in_order() =>
        Prop.ForAll(
            Arb.From(Gen.ArrayOf(ArbMap.Default.GeneratorFor<long>()).Where(ids => ids.Length <= Batch.MaxStopsPerFrame)),
            ids =>
            {
                using var buffer = new FrameBuffer();
                Batch.EncodeStops(buffer, ids);
                var frame = buffer.WrittenSpan;
                var decoded = new List<long>();

                var ok = Batch.TryDecodeStops(frame[FrameParser.HeaderLength..], decoded);

                Assert.Equal((byte)FrameKind.Stop, frame[4]);
                Assert.True(ok);
                Assert.Equal(ids, decoded);
            }
        );

    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property Bytes_that_are_not_a_whole_count_of_ids_are_refused() =>
        Prop.ForAll(
            Arb.From(Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>())),
            bytes =>
            {
                var decoded = new List<long>();

                var ok = Batch.TryDecodeStops(bytes, decoded);

                var count = bytes.Length >= 4 ? BitConverter.ToInt32(bytes, 0) : -1;
                Assert.Equal(count >= 0 && count <= Batch.MaxStopsPerFrame && bytes.Length == 4 + (8L * count), ok);
            }
        );
}
