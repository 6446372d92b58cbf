using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Nursery.Protocol.Tests;

/// <summary>
/// What <see cref="Batch"/> guarantees: batches written the way the worker and the child host write them decode back exactly
/// (replies however the payload is cut into segments; requests from the one buffer the child host reads them into), and decoding any bytes at all answers true or false without throwing.
/// A failing case prints FsCheck's seed and the items or bytes with their segment cuts.
/// </summary>
public sealed class BatchProperties
{
    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property Requests_written_in_a_batch_decode_back_exactly() =>
        Prop.ForAll(
            Arb.From(BatchGen.RequestBatch),
            batch =>
            {
                var payload = Batches.RequestPayload(batch.Items);
                var decoded = new RequestEntries();

                var ok = Batch.TryDecodeRequests(payload, decoded, out var violation);

                Assert.True(ok, violation);
                Assert.Equal(batch.Items, decoded.ToArray().Select(entry => new RequestItem(entry.Id, entry.Payload.ToArray())));
            }
        );

    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property Replies_written_in_a_batch_decode_back_exactly() =>
        Prop.ForAll(
            Arb.From(BatchGen.ReplyBatch),
            batch =>
            {
                var payload = Wire.Segmented(Batches.ReplyPayload(batch.Items), batch.Cuts);
                var decoded = new List<ReplyEntry>();

                var ok = Batch.TryDecodeReplies(payload, decoded, out var violation);

                Assert.True(ok, violation);
                Assert.Equal(batch.Items, decoded.Select(entry => new ReplyItem(entry.Id, entry.Status, entry.Payload.ToArray())));
            }
        );

    [Property(MaxTest = 500, QuietOnSuccess = true)]
    public Property Any_bytes_decode_as_requests_to_true_or_to_false_with_a_reason_and_never_throw() =>
        Prop.ForAll(
            Arb.From(BatchGen.AnyRequestPayload),
            payload =>
            {
                var ok = Batch.TryDecodeRequests(payload.Bytes, new RequestEntries(), out var violation);

                Assert.True(ok || violation.Length > 0, "false without a reason");
            }
        );

    [Property(MaxTest = 500, QuietOnSuccess = true)]
    public Property Any_bytes_decode_as_replies_to_true_or_to_false_with_a_reason_and_never_throw() =>
        Prop.ForAll(
            Arb.From(BatchGen.AnyReplyPayload),
            payload =>
            {
                var ok = Batch.TryDecodeReplies(payload.Sequence, [], out var violation);

                Assert.True(ok || violation.Length > 0, "false without a reason");
            }
        );

    /// <summary>Nothing is skipped or invented: what decodes, written again, is byte for byte what was given.</summary>
    [Property(MaxTest = 500, QuietOnSuccess = true)]
    public Property Bytes_that_decode_as_requests_are_exactly_the_encoding_of_what_they_decode_to() =>
        Prop.ForAll(
            Arb.From(BatchGen.AnyRequestPayload),
            payload =>
            {
                var decoded = new RequestEntries();
                var ok = Batch.TryDecodeRequests(payload.Bytes, decoded, out _);

                var written = Batches.RequestPayload([.. decoded.ToArray().Select(entry => new RequestItem(entry.Id, entry.Payload.ToArray()))]);

                return Prop.Or(!ok, () => Assert.Equal(payload.Bytes, written)).Classify(ok, "decoded");
            }
        );

    /// <summary>Nothing is skipped or invented: what decodes, written again, is byte for byte what was given.</summary>
    [Property(MaxTest = 500, QuietOnSuccess = true)]
    public Property Bytes_that_decode_as_replies_are_exactly_the_encoding_of_what_they_decode_to() =>
        Prop.ForAll(
            Arb.From(BatchGen.AnyReplyPayload),
            payload =>
            {
                var decoded = new List<ReplyEntry>();
                var ok = Batch.TryDecodeReplies(payload.Sequence, decoded, out _);

                var written = Batches.ReplyPayload([.. decoded.Select(entry => new ReplyItem(entry.Id, entry.Status, entry.Payload.ToArray()))]);

                return Prop.Or(!ok, () => Assert.Equal(payload.Bytes, written)).Classify(ok, "decoded");
            }
        );

    /// <summary>The child host's entry list grows past its first array, and refuses an index past its count (it hands out references into a reused array).</summary>
    [Fact]
    public void Request_entries_grow_and_refuse_an_index_past_their_count()
    {
        var items = Enumerable.Range(0, 40).Select(i => new RequestItem(i, [(byte)i])).ToArray();
        var decoded = new RequestEntries();

        Assert.True(Batch.TryDecodeRequests(Batches.RequestPayload(items), decoded, out var violation), violation);

        Assert.Equal(40, decoded.Count);
        Assert.Equal(39, decoded[39].Id);
        Assert.Throws<ArgumentOutOfRangeException>(() => decoded[40].Id);
        decoded.Clear();
        Assert.Equal(0, decoded.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => decoded[0].Id);
    }
}
