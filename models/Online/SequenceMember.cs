using StreamDetect.Models.Detection;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Sequence;

namespace StreamDetect.Models.Online;

/// <summary>The part of a detector that online fine-tuning trains: a sequence detector itself, or an ensemble's sequence member.</summary>
internal static class SequenceMember
{
    public static AnomalyDetector Of(IAnomalyDetector detector)
    {
        if (IsSequence(detector)) return (AnomalyDetector)detector;
        if (detector is EnsembleDetector ensemble && ensemble.Members.FirstOrDefault(IsSequence) is AnomalyDetector member) return member;
        throw new ArgumentException($"online fine-tuning needs a sequence detector (lstm, gru, transformer) or an ensemble with one; '{detector.Name}' has none");
    }

    public static NextEventTrainable Trainable(IAnomalyDetector detector) => Of(detector) switch
    {
        RecurrentNextEventDetector recurrent => recurrent.Trainable,
        TransformerNextEventDetector transformer => transformer.Trainable,
        var other => throw new ArgumentException($"'{other.Name}' is not a sequence detector"),
    };

    /// <summary>Gives a private copy's sequence part the vocabulary with types assigned to its reserved slots.</summary>
    public static void AdoptVocabulary(IAnomalyDetector copy, Vocabulary.EventVocabulary vocabulary)
    {
        switch (Of(copy))
        {
            case RecurrentNextEventDetector recurrent: recurrent.AdoptVocabulary(vocabulary); break;
            case TransformerNextEventDetector transformer: transformer.AdoptVocabulary(vocabulary); break;
            case var other: throw new ArgumentException($"'{other.Name}' is not a sequence detector");
        }
    }

    private static bool IsSequence(IAnomalyDetector detector) => detector is RecurrentNextEventDetector or TransformerNextEventDetector;
}
