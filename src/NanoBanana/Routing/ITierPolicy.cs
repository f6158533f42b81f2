namespace NanoBanana.Routing;

/// <summary>Chooses a model for a job.</summary>
public interface ITierPolicy
{
    /// <summary>Routes a job to a model.</summary>
    /// <exception cref="NoCapableModelException">No model meets the hard constraints (or the pinned tier does not).</exception>
    /// <exception cref="ArgumentException">The requirements are invalid.</exception>
    RoutingDecision Route(JobRequirements requirements);
}
