using StreamDetect.Models.Detection;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Tests.Support;
using TorchSharp;

namespace StreamDetect.Models.Tests.Ensemble;

/// <summary>
/// Members scored in parallel give what they give scored alone on the caller's thread, to the bit: torch's
/// thread settings are per thread, and a pool thread without them multiplies matrices with other bits.
/// </summary>
public sealed class EnsembleMemberThreadsTests(TrainedDetectors trained)
{
    [Fact]
    public void Members_scored_in_parallel_give_the_raw_scores_they_give_alone_on_the_callers_thread()
    {
        // A copy of its own: other tests score the shared instance meanwhile.
        string path = Path.Combine(Directory.CreateTempSubdirectory("sd-ensemble-threads-").FullName, "ensemble.sdm");
        trained.Get("ensemble").Save(path);
        using var ensemble = (EnsembleDetector)DetectorFile.Load(path, torch.CPU);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        Assert.True(Environment.ProcessorCount > 1, "needs several cores to score members in parallel");
        Exception? failure = null;
        int compared = 0;
        // A thread of its own, set up as the scorer's is (one torch thread: the setting on 2 cores).
        var scorer = new Thread(() =>
        {
            try
            {
                torch.set_num_threads(1);
                var users = trained.Data.Users.Where(u => u.Count > 40).Take(60).ToArray();
                var replays = users.Select(u => u.StartReplay(trained.Data.WindowCapacity)).ToArray();
                var random = new Random(5);
                for (int round = 0; round < 80; round++)
                {
                    // Small batches of a few users: the shapes where a product's bits depend on its threads.
                    var batch = Enumerable.Range(0, 1 + random.Next(4)).Select(_ => random.Next(replays.Length)).Distinct()
                        .Where(u => replays[u].HasNext)
                        .Select(u => replays[u].AdvanceAsInput(Math.Min(1 + random.Next(3), users[u].Count - replays[u].Position)))
                        .ToArray();
                    if (batch.Length == 0) continue;
                    var outputs = ensemble.ScoreBatch(batch);
                    for (int m = 0; m < ensemble.Members.Count; m++)
                    {
                        var member = ensemble.Members[m];
                        if (member.IsStateful) continue; // its state travels packed in the ensemble's
                        var alone = member.ScoreBatch(batch);
                        for (int i = 0; i < batch.Length; i++)
                        {
                            for (int e = 0; e < alone[i].Count; e++)
                            {
                                Assert.True(BitConverter.DoubleToInt64Bits(alone[i].RawScoreAt(e)) == BitConverter.DoubleToInt64Bits(outputs[i].Members[m].RawScoreAt(e)),
                                    $"round {round}, {member.Name}, input {i}, event {e}: {outputs[i].Members[m].RawScoreAt(e):R} in the ensemble, {alone[i].RawScoreAt(e):R} alone");
                                compared++;
                            }
                        }
                    }
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        scorer.Start();
        scorer.Join();
        if (failure is not null) throw failure;
        Assert.True(compared > 100, $"{compared} scores compared");
    }
}
