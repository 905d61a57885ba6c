using Serverless.Lifecycle.Api;

namespace Serverless.Laptop;

/// <summary>
/// Laptop mode's caller: the person at the machine (it listens on loopback only), with every role, so
/// the audit trail names them. Headers that claim another identity (<c>X-MS-CLIENT-PRINCIPAL</c>) are
/// ignored: nothing here could vouch for them.
/// </summary>
public sealed class LocalCaller(RequestDelegate next)
{
    private static readonly System.Security.Claims.ClaimsPrincipal User = ApiAccess.LocalUser();

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.User = User;
        if (await ApiAccess.CheckAsync(context))
        {
            await next(context);
        }
    }
}
