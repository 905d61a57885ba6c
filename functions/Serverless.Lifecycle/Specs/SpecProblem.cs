namespace Serverless.Lifecycle.Specs;

/// <summary>One problem found in a model spec, located by its JSON path (for example <c>$.features[2].type</c>).</summary>
public sealed record SpecProblem(string Path, string Message);
