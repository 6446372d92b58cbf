using System.Buffers;
using LanguageExt;
using Nursery.Protocol;
using Nursery.Supervision;

namespace Nursery.Tests.Supervision;

/// <summary>The in-flight book: which items a child holds, in which order, which replies are dropped, and since when the head waits.</summary>
public sealed class InFlightBookTests
{
    private sealed class Item(long id) : PendingItem(id, 1)
    {
        public override string Key => $"k{Id}";

        public bool Done { get; set; }

        public override bool IsCompleted => Done;

        public override void WriteInput(IBufferWriter<byte> output) { }

        public override Option<ChildFailure> TryCompleteWithResult(in ReadOnlySequence<byte> payload) => Option<ChildFailure>.None;

        public override bool TryFail(ChildFailure failure) => true;
    }

    private static (InFlightBook Book, Item[] Items) Sent(int count, long at)
    {
        var book = new InFlightBook();
        Item[] items = [.. Enumerable.Range(1, count).Select(id => new Item(id))];
        book.Register([.. items], at);
        return (book, items);
    }

    [Fact]
    public void Sent_items_are_held_in_order_and_stamped_with_their_send_time()
    {
        var (book, items) = Sent(3, 100);

        Assert.Equal(3, book.Count);
        Assert.All(items, item => Assert.Equal(100, item.SentTimestamp));
        Assert.True(book.IsRunning(1));
        Assert.False(book.IsRunning(2));
        Assert.Equal(100, book.HeadSince);
    }

    [Fact]
    public void An_answer_takes_the_item_out_and_the_head_moves_on_only_past_answered_items()
    {
        var (book, items) = Sent(3, 100);

        Assert.True(book.TryAnswer(2, out var second, out var abandoned));
        book.DropAnsweredHead(150);

        Assert.Same(items[1], second);
        Assert.False(abandoned);
        Assert.Equal(3, book.Count);
        Assert.True(book.IsRunning(1));

        Assert.True(book.TryAnswer(1, out _, out _));
        book.DropAnsweredHead(200);

        Assert.Equal(1, book.Count);
        Assert.True(book.IsRunning(3));
        Assert.Equal(200, book.HeadSince);
    }

    [Fact]
    public void An_answer_for_an_item_not_held_is_refused()
    {
        var (book, _) = Sent(1, 100);

        Assert.False(book.TryAnswer(7, out var item, out _));
        Assert.Null(item);
        Assert.True(book.TryAnswer(1, out _, out _));
        Assert.False(book.TryAnswer(1, out _, out _));
    }

    [Fact]
    public void An_abandoned_items_answer_is_marked_to_be_dropped()
    {
        var (book, _) = Sent(2, 100);

        Assert.True(book.Abandon(2));
        Assert.False(book.Abandon(9));

        Assert.True(book.TryAnswer(2, out _, out var abandoned));
        Assert.True(abandoned);
        Assert.True(book.TryAnswer(1, out _, out var first));
        Assert.False(first);
    }

    [Fact]
    public void An_item_completed_before_it_was_sent_is_held_but_abandoned()
    {
        var book = new InFlightBook();
        var item = new Item(1) { Done = true };

        book.Register([item], 100);

        Assert.True(book.Holds(1));
        Assert.True(book.TryAnswer(1, out _, out var abandoned));
        Assert.True(abandoned);
    }

    [Fact]
    public void The_head_waits_from_the_first_send_into_an_empty_child_not_from_later_ones()
    {
        var (book, _) = Sent(1, 100);

        book.Register([new Item(2)], 300);

        Assert.Equal(100, book.HeadSince);
    }

    [Fact]
    public void The_running_item_started_at_the_childs_word_when_it_is_later_and_still_unanswered()
    {
        var (book, _) = Sent(2, 100);

        Assert.Equal(250, book.RunningSince(Started(2, 250)));
        Assert.Equal(100, book.RunningSince(default));
        Assert.Equal(100, book.RunningSince(Started(2, 50)));
        Assert.Equal(100, book.RunningSince(Started(9, 250)));
        Assert.Equal(100, book.RunningSince(Started(2, 250) with { Finished = 2 }));
        Assert.Null(new InFlightBook().RunningSince(Started(1, 250)));
    }

    [Fact]
    public void The_item_to_stop_is_the_one_the_slot_names_while_unanswered_else_the_oldest_unanswered_even_between_items()
    {
        var (book, items) = Sent(3, 100);

        Assert.Same(items[1], book.ToStop(Started(2, 200) with { Finished = 1 }));
        Assert.Same(items[1], book.ToStop(Started(2, 200) with { Finished = 2 }));
        Assert.Same(items[0], book.ToStop(new ChildProgress(true, 0, 0, 0)));
        Assert.Same(items[0], book.ToStop(default));
        book.TryAnswer(1, out _, out _);
        // Between items 1 and 2, item 1 answered: the item the child starts next is the one to stop.
        Assert.Same(items[1], book.ToStop(Started(1, 150) with { Finished = 1 }));
        Assert.Null(new InFlightBook().ToStop(Started(1, 150)));
    }

    [Theory]
    // started item, finished item: the finished unanswered ones, the running one (-1: none)
    [InlineData(2, 1, 1, 1)] // item 2 running: item 1 had finished
    [InlineData(2, 2, 2, -1)] // between items 2 and 3: 1 and 2 had finished, 3 never started
    [InlineData(1, 1, 1, -1)]
    [InlineData(3, 3, 3, -1)]
    [InlineData(0, 0, 0, -1)] // nothing started yet
    [InlineData(7, 7, 0, -1)] // the last item started was answered: none of the held ones began
    [InlineData(7, 6, 0, -1)] // a started item the child does not hold is not blamed on one it holds
    public void A_dead_child_s_unanswered_items_finished_ran_or_never_started_as_its_progress_slot_says(long started, long finished, int expectedFinished, int expectedRunning)
    {
        var (_, items) = Sent(3, 100);

        var fates = InFlightBook.Fates(items, new ChildProgress(true, started, 150, finished));

        Assert.Equal((expectedFinished, expectedRunning), fates);
    }

    [Fact]
    public void Without_a_progress_slot_the_oldest_unanswered_item_is_the_one_that_ran()
    {
        var (_, items) = Sent(3, 100);

        Assert.Equal((0, 0), InFlightBook.Fates(items, default));
        Assert.Equal((0, -1), InFlightBook.Fates([], default));
    }

    private static ChildProgress Started(long id, long since) => new(true, id, since, 0);

    [Fact]
    public void Taking_all_returns_the_unanswered_items_in_send_order_and_empties_the_book()
    {
        var (book, items) = Sent(4, 100);
        book.TryAnswer(2, out _, out _);

        var unanswered = book.TakeAll();

        Assert.Equal([items[0], items[2], items[3]], unanswered);
        Assert.Equal(0, book.Count);
        Assert.False(book.Holds(3));
    }

    [Fact]
    public void Answers_out_of_send_order_and_sends_past_the_books_first_capacity_are_each_matched_to_their_item()
    {
        var book = new InFlightBook();
        var next = 1L;
        var held = new List<Item>();
        for (var round = 0; round < 20; round++)
        {
            List<Item> sent = [.. Enumerable.Range(0, 50).Select(_ => new Item(next++))];
            book.Register([.. sent], round);
            held.AddRange(sent);
            // The second item first, then the rest in order: each answer finds its own item.
            var answered = held.Take(40).ToList();
            (answered[0], answered[1]) = (answered[1], answered[0]);
            foreach (var item in answered)
            {
                Assert.True(book.TryAnswer(item.Id, out var found, out var abandoned));
                Assert.Same(item, found);
                Assert.False(abandoned);
                Assert.False(book.TryAnswer(item.Id, out _, out _));
            }
            book.DropAnsweredHead(round);
            held.RemoveRange(0, 40);
            Assert.Equal(held.Count, book.Count);
            Assert.True(book.IsRunning(held[0].Id));
        }
        Assert.Equal(held.Select(item => item.Id), book.TakeAll().Select(item => item.Id));
    }

    [Fact]
    public void Items_sent_out_of_the_order_of_their_ids_are_found_abandoned_and_answered_by_id()
    {
        var book = new InFlightBook();
        Item[] later = [new(11), new(12), new(13)];
        Item[] earlier = [new(3), new(2), new(1)];
        book.Register([.. later], 10);
        book.Register([.. earlier], 20);

        Assert.True(book.IsRunning(11));
        Assert.True(book.Holds(2));
        Assert.True(book.Abandon(1));
        Assert.Same(earlier[0], book.ToStop(Started(3, 30)));
        Assert.True(book.TryAnswer(12, out var twelve, out var twelveAbandoned));
        Assert.Same(later[1], twelve);
        Assert.False(twelveAbandoned);
        Assert.True(book.TryAnswer(1, out _, out var oneAbandoned));
        Assert.True(oneAbandoned);
        Assert.False(book.Holds(12));
        Assert.Equal([11L, 13, 3, 2], book.TakeAll().Select(item => item.Id));
    }
}
