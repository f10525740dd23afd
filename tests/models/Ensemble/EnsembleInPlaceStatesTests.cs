using StreamDetect.Models.Detection;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Features;
using StreamDetect.Models.Tests.Support;
using TorchSharp;

namespace StreamDetect.Models.Tests.Ensemble;

/// <summary>
/// An ensemble's stateful member that keeps its states inside the ensemble's slots (in place, no per-user copies)
/// gives, to the bit, the scores it gives alone on slots of its own, and the ensemble's slot is the layout that slicing
/// and packing gave: each member's length, then the member's own state values.
/// </summary>
public sealed class EnsembleInPlaceStatesTests(TrainedDetectors trained)
{
    [Fact]
    public void A_member_kept_in_place_scores_as_it_does_alone_and_the_slot_packs_its_own_state()
    {
        // A copy of its own: other tests score the shared instance meanwhile.
        string path = Path.Combine(Directory.CreateTempSubdirectory("sd-ensemble-in-place-").FullName, "ensemble.sdm");
        trained.Get("ensemble").Save(path);
        using var ensemble = (EnsembleDetector)DetectorFile.Load(path, torch.CPU);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        var members = ensemble.Members;
        int stateful = Enumerable.Range(0, members.Count).Single(m => members[m].IsStateful);
        var member = members[stateful];

        var users = trained.Data.Users.Where(u => u.Count > 30).Take(40).ToArray();
        var replays = users.Select(u => u.StartReplay(trained.Data.WindowCapacity)).ToArray();
        var ensembleStates = new ModelStateSlot?[users.Length];
        var aloneStates = new ModelStateSlot?[users.Length];
        var random = new Random(3);
        int compared = 0, kept = 0;
        for (int round = 0; round < 30; round++)
        {
            var picked = Enumerable.Range(0, users.Length).Where(u => replays[u].HasNext && random.Next(3) > 0).ToArray();
            if (picked.Length == 0) break;
            var inputs = picked.Select(u => replays[u].AdvanceAsInput(Math.Min(1 + random.Next(4), users[u].Count - replays[u].Position))).ToArray();
            // Now and then a user's slot is lost, so both rebuild from the window.
            var lost = picked.Select(_ => random.Next(8) == 0).ToArray();
            var ensembleInputs = inputs.Select((x, i) => x with { State = lost[i] ? null : ensembleStates[picked[i]] }).ToArray();
            var aloneInputs = inputs.Select((x, i) => x with { State = lost[i] ? null : aloneStates[picked[i]] }).ToArray();
            var outputs = ensemble.ScoreBatch(ensembleInputs);
            var alone = member.ScoreBatch(aloneInputs);
            for (int i = 0; i < picked.Length; i++)
            {
                if (ensembleInputs[i].State is not null) kept++;
                var inEnsemble = outputs[i].Members[stateful];
                Assert.Null(inEnsemble.NewState); // kept in place: no state of its own
                for (int e = 0; e < alone[i].Count; e++, compared++)
                    Assert.True(BitConverter.DoubleToInt64Bits(alone[i].RawScoreAt(e)) == BitConverter.DoubleToInt64Bits(inEnsemble.RawScoreAt(e)),
                        $"round {round}, user {users[picked[i]].UserId}, event {e}: {inEnsemble.RawScoreAt(e):R} in the ensemble, {alone[i].RawScoreAt(e):R} alone");

                var slot = outputs[i].NewState!;
                var own = alone[i].NewState!;
                Assert.Equal(ensemble.StateKey, slot.ModelKey);
                Assert.Equal(own.EventsFolded, slot.EventsFolded);
                var expected = new float[members.Count + own.Values.Length];
                expected[stateful] = own.Values.Length;
                own.Values.CopyTo(expected, members.Count);
                Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), slot.Values.Select(BitConverter.SingleToInt32Bits));
                ensembleStates[picked[i]] = slot;
                aloneStates[picked[i]] = own;
            }
        }
        Assert.True(compared > 500, $"{compared} scores compared");
        Assert.True(kept > 200, $"{kept} inputs came with a kept slot");
    }
}
