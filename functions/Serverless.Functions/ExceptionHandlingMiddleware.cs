using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace Serverless.Functions;

/// <summary>
/// What <c>UseExceptionHandler()</c> is to laptop mode: an exception an HTTP function did not handle
/// is answered by the registered <see cref="IExceptionHandler"/>s (the API's problem details) instead
/// of reaching the host. Other triggers are left alone: an activity's exception must reach Durable
/// Functions, whose retry policies handle it.
/// </summary>
public sealed class ExceptionHandlingMiddleware(IEnumerable<IExceptionHandler> handlers) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            await next(context);
        }
        catch (Exception ex) when (context.GetHttpContext() is not null)
        {
            // Answered on the HTTP response, the invocation itself succeeds; unless no handler could answer.
            if (!await HandledAsync(context.GetHttpContext()!, ex))
            {
                throw;
            }
        }
    }

    private async Task<bool> HandledAsync(Microsoft.AspNetCore.Http.HttpContext httpContext, Exception exception)
    {
        foreach (var handler in handlers)
        {
            if (await handler.TryHandleAsync(httpContext, exception, httpContext.RequestAborted))
            {
                return true;
            }
        }

        return false;
    }
}
