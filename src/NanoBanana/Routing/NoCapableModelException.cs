namespace NanoBanana.Routing;

/// <summary>No model in the catalog can run the job. <see cref="Rejected"/> lists every model and why.</summary>
public class NoCapableModelException : NanoBananaException
{
    /// <summary>Creates the exception.</summary>
    public NoCapableModelException() : this("No Nano Banana model can run this job.", []) { }

    /// <summary>Creates the exception with a message.</summary>
    public NoCapableModelException(string message) : this(message, []) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public NoCapableModelException(string message, Exception? innerException) : base(message, innerException) => Rejected = [];

    /// <summary>Creates the exception with the list of rejected models.</summary>
    public NoCapableModelException(string message, IReadOnlyList<RejectedModel> rejected) : base(message) => Rejected = rejected;

    /// <summary>Every model that was considered, with the constraint that ruled it out.</summary>
    public IReadOnlyList<RejectedModel> Rejected { get; }
}
