using System.Text;
using StreamDetect.Stages.Feedback;

namespace StreamDetect.Stages.Tests.Feedback;

public sealed class FeedbackFileTests
{
    [Fact]
    public async Task Lines_already_there_and_lines_appended_later_are_read_and_bad_lines_are_skipped()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sd-feedback-{Guid.NewGuid():N}.jsonl");
        try
        {
            await File.WriteAllTextAsync(path, "{\"userId\":\"u-1\",\"label\":0,\"alertId\":\"al-1\"}\n\nnot json\n", TestContext.Current.CancellationToken);
            var file = new FeedbackFile(path, TimeSpan.FromMilliseconds(20), maxLineBytes: 100);
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var labels = new List<FeedbackLabel>();
            var reading = Task.Run(async () =>
            {
                await foreach (var label in file.Follow(stop.Token))
                    lock (labels) labels.Add(label);
            }, TestContext.Current.CancellationToken);

            await WaitFor(() => Count(labels) == 1);
            await using (var writer = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
            {
                // A line longer than the limit, then a line written in two parts: taken only once it ends.
                await writer.WriteAsync(Encoding.UTF8.GetBytes(new string('x', 500) + "\n{\"userId\":\"u-2\","), TestContext.Current.CancellationToken);
                await writer.FlushAsync(TestContext.Current.CancellationToken);
                // the over-long line is counted once the reader has read this write, its unfinished line included
                await WaitFor(() => file.Invalid == 2);
                Assert.Equal(1, Count(labels));
                await writer.WriteAsync("\"label\":1}\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
            }
            await WaitFor(() => Count(labels) == 2);
            stop.Cancel();
            await reading;

            Assert.Equal(new FeedbackLabel("u-1", 0, "al-1"), labels[0]);
            Assert.Equal(new FeedbackLabel("u-2", 1, null), labels[1]);
            Assert.Equal(2, file.Invalid); // "not json" and the over-long line; the blank line is not an error
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static int Count(List<FeedbackLabel> labels)
    {
        lock (labels) return labels.Count;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds (the reader runs on its own; nothing to await).</summary>
    private static async Task WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
