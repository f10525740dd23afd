using System.Diagnostics;
using Akka.Event;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Retries an idempotent store call (a snapshot save or load, a delete, a replay) with backoff until it succeeds or has
/// failed for <see cref="StoreRetrySettings.GiveUpAfter"/>, and words the failure it then ends with.
/// </summary>
public static class StoreRetry
{
    /// <param name="afterFailure">Runs after each failed attempt (e.g. <see cref="StoreConnectionPool.Clear"/>).</param>
    public static Task RunAsync(StoreRetrySettings retry, string store, string what, ILoggingAdapter log, Func<Task> call, CancellationToken cancellation,
        Action? afterFailure = null) =>
        RunAsync(retry, store, what, log, async () =>
        {
            await call();
            return true;
        }, cancellation, afterFailure);

    /// <summary>The same for a call with a result (a read).</summary>
    public static async Task<T> RunAsync<T>(StoreRetrySettings retry, string store, string what, ILoggingAdapter log, Func<Task<T>> call, CancellationToken cancellation,
        Action? afterFailure = null)
    {
        var clock = Stopwatch.StartNew();
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var result = await call();
                if (attempt > 1) log.Info("{0}: {1} succeeded after {2} retries ({3:0.0} s)", store, what, attempt - 1, clock.Elapsed.TotalSeconds);
                return result;
            }
            catch (Exception e) when (e is not EnvironmentFailureException)
            {
                if (cancellation.IsCancellationRequested || clock.Elapsed >= retry.GiveUpAfter) throw GaveUp(store, what, clock.Elapsed, attempt, e);
                afterFailure?.Invoke();
                if (attempt == 1)
                    log.Warning("{0}: {1} failed ({2}); retrying with backoff for up to {3:0} s (streamdetect.store.retry)", store, what, OneLine(e), retry.GiveUpAfter.TotalSeconds);
                try
                {
                    await Task.Delay(retry.Backoff(attempt), cancellation);
                }
                catch (OperationCanceledException)
                {
                    throw GaveUp(store, what, clock.Elapsed, attempt, e);
                }
            }
        }
    }

    /// <summary>The failure a store call ends with once its retries are used up: one line naming the store and the cause.</summary>
    public static EnvironmentFailureException GaveUp(string store, string what, TimeSpan elapsed, int attempts, Exception cause) =>
        cause as EnvironmentFailureException ?? new EnvironmentFailureException(FailedResource.Store,
            $"{store}: {what} failed for {elapsed.TotalSeconds:0} s ({attempts} attempts; streamdetect.store.retry.give-up-after): {OneLine(cause)}", cause);

    /// <summary>An exception's innermost message on one line.</summary>
    public static string OneLine(Exception e)
    {
        while (e is AggregateException { InnerException: { } single }) e = single;
        string message = e.Message;
        if (e.InnerException is { } inner && !message.Contains(inner.Message, StringComparison.Ordinal)) message += ": " + inner.Message;
        return message.ReplaceLineEndings(" ").Trim();
    }
}
