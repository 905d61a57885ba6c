using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Serverless.Hosts.Tests.Functions;

/// <summary>
/// The worker's context for one invocation, as its ASP.NET Core integration leaves it for the
/// middleware after it: the request's <see cref="HttpContext"/> in <see cref="Items"/> (null for
/// a trigger that is not HTTP).
/// </summary>
internal sealed class HttpFunctionContext(HttpContext? http, IServiceProvider services) : FunctionContext
{
    public override string InvocationId { get; } = Guid.NewGuid().ToString();

    public override string FunctionId => "GetModel";

    public override TraceContext TraceContext => throw new NotSupportedException();

    public override BindingContext BindingContext => throw new NotSupportedException();

    public override RetryContext RetryContext => throw new NotSupportedException();

    public override IServiceProvider InstanceServices { get; set; } = services;

    public override FunctionDefinition FunctionDefinition => throw new NotSupportedException();

    // The key the worker's ASP.NET Core integration stores the request under (read by GetHttpContext()).
    public override IDictionary<object, object> Items { get; set; } = http is null ? new Dictionary<object, object>() : new Dictionary<object, object> { ["HttpRequestContext"] = http };

    public override Microsoft.Azure.Functions.Worker.IInvocationFeatures Features => throw new NotSupportedException();
}
