using System.Text.Json;
using System.Text.RegularExpressions;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Infra;

/// <summary>
/// Every role assignment of the deployment Bicep predicts for infra/main.bicep (principal, role,
/// scope, condition) is a row of docs/security.md's table, and every row is an assignment. The
/// deployment has the GPU job, the events topic and a deploying principal, so every optional
/// assignment is in it.
/// </summary>
public sealed partial class RoleAssignmentTests
{
    private const string Deployer = "12345678-1234-1234-1234-123456789abc";

    private static readonly Lazy<PredictedDeployment> Deployment = new(() =>
    {
        var (deployment, message) = BicepCli.Snapshot(("gpuTraining", "true"), ("createEventsTopic", "true"), ("principalId", $"'{Deployer}'"));
        return deployment ?? throw new InvalidOperationException("bicep snapshot refused the parameters: " + message);
    });

    /// <summary>Azure's built-in roles the Bicep uses, by their fixed IDs.</summary>
    private static readonly Dictionary<string, string> BuiltInRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner",
        ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"] = "Storage Blob Data Contributor",
        ["2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"] = "Storage Blob Data Reader",
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor",
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher",
        ["7f951dda-4ed3-4680-a7ca-43fe172d538d"] = "AcrPull",
        ["d5a91429-5739-47e2-a06b-3470a27159e7"] = "EventGrid Data Sender",
    };

    private sealed record Assignment(string Principal, string Role, string Scope, string Condition)
    {
        public override string ToString() => $"{Principal} | {Role} | {Scope} | {Condition}";
    }

    private static List<Assignment> Deployed()
    {
        var deployment = Deployment.Value;
        var customRoles = deployment.OfType("Microsoft.Authorization/roleDefinitions").ToDictionary(
            r => r.GetProperty("name").GetString()!,
            r => RoleSuffix().Replace(r.GetProperty("properties").GetProperty("roleName").GetString()!, ""),
            StringComparer.OrdinalIgnoreCase);
        return [.. deployment.OfType("Microsoft.Authorization/roleAssignments").Select(r =>
        {
            var properties = r.GetProperty("properties");
            var roleId = properties.GetProperty("roleDefinitionId").GetString()!;
            var roleGuid = RoleGuid().Match(roleId).Groups[1].Value;
            var role = BuiltInRoles.TryGetValue(roleGuid, out var builtIn) ? builtIn
                : customRoles.TryGetValue(roleGuid, out var custom) ? custom
                : throw new InvalidOperationException($"role {roleId} is neither a known built-in role nor a role the deployment defines");
            return new Assignment(
                Principal(properties.GetProperty("principalId").GetString()!, properties.GetProperty("principalType").GetString()!),
                role,
                Scope(r.GetProperty("id").GetString()!),
                properties.TryGetProperty("condition", out var condition) ? ConditionSummary(condition.GetString()!) : "none");
        })];
    }

    /// <summary>app, trainer or deployer: which identity a principal ID expression names.</summary>
    private static string Principal(string principalId, string principalType) =>
        principalId == Deployer ? (principalType == "User" ? "deployer" : $"deployer as {principalType}")
        : IdentityName().Match(principalId) is { Success: true } identity
            ? identity.Groups[1].Value switch
            {
                "id-" => "app",
                "id-trainer-" => "trainer",
                var other => $"identity {other}",
            } + (principalType == "ServicePrincipal" ? "" : $" as {principalType}")
            : $"unknown principal {principalId}";

    /// <summary>The assignment's scope, from its resource ID, in the table's words.</summary>
    private static string Scope(string id)
    {
        var scope = ExtensionId().Match(id) is { Success: true } extension ? extension.Groups[1].Value
            : id[..id.IndexOf("/providers/Microsoft.Authorization/roleAssignments/", StringComparison.Ordinal)];
        var resource = scope[(scope.LastIndexOf("/providers/", StringComparison.Ordinal) + "/providers/".Length)..];
        return resource.Split('/') switch
        {
            ["Microsoft.Storage", "storageAccounts", _] => "storage account",
            ["Microsoft.Storage", "storageAccounts", _, "blobServices", "default", "containers", var container] => $"blob container {container}",
            ["Microsoft.Storage", "storageAccounts", _, "tableServices", "default", "tables", var table] => $"table {table}",
            ["Microsoft.Insights", "components", _] => "Application Insights",
            ["Microsoft.ContainerRegistry", "registries", _] => "container registry",
            ["Microsoft.App", "jobs", var job] => job.StartsWith("trainer-gpu-", StringComparison.Ordinal) ? "GPU trainer job" : "CPU trainer job",
            ["Microsoft.EventGrid", "topics", _] => "events topic",
            _ => resource,
        };
    }

    /// <summary>A condition as the table writes it: per data action, the blob path patterns it is limited to.</summary>
    private static string ConditionSummary(string condition) =>
        string.Join("; ", Clause().Matches(condition).Select(clause =>
            $"{clause.Groups["action"].Value} {string.Join(", ", PathPattern().Matches(clause.Groups["paths"].Value).Select(p => $"`{p.Groups[1].Value}`"))}"));

    /// <summary>The rows of the table under "## Every role assignment" in docs/security.md.</summary>
    private static List<Assignment> Documented()
    {
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "security.md"));
        var section = text[text.IndexOf("## Every role assignment", StringComparison.Ordinal)..];
        section = section[..(section.IndexOf("\n## ", 3, StringComparison.Ordinal) is var next and > 0 ? next : section.Length)];
        return [.. section.Split('\n').Select(l => l.Trim())
            .Where(l => l.StartsWith('|') && !l.StartsWith("| Principal", StringComparison.Ordinal) && !l.StartsWith("|---", StringComparison.Ordinal))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries))
            .Select(cells => new Assignment(cells[1], CustomNote().Replace(cells[2], ""), cells[3], cells[4]))];
    }

    [Fact]
    public void EveryRoleAssignment_IsARowOfTheDocsTable_AndEveryRowIsAnAssignment()
    {
        var deployed = Deployed().Select(a => a.ToString()).Order(StringComparer.Ordinal).ToList();
        var documented = Documented().Select(a => a.ToString()).Order(StringComparer.Ordinal).ToList();

        Assert.True(deployed.Count >= 13, $"only {deployed.Count} assignments were read from the deployment");
        Assert.True(
            deployed.SequenceEqual(documented),
            $"docs/security.md and the deployment disagree.\nDeployed only:\n{string.Join('\n', deployed.Except(documented))}\nDocumented only:\n{string.Join('\n', documented.Except(deployed))}");
    }

    [Fact]
    public void TheTrainerIdentity_HasNoRoleOnTheAccount_TheTaskHub_OrTheRegistryTables()
    {
        var trainer = Deployed().Where(a => a.Principal == "trainer").ToList();

        Assert.NotEmpty(trainer);
        Assert.DoesNotContain(trainer, a => a.Scope == "storage account");
        Assert.DoesNotContain(trainer, a => a.Role.Contains("Queue", StringComparison.Ordinal) || a.Role.Contains("Table", StringComparison.Ordinal));
        var storage = Assert.Single(trainer, a => a.Scope.StartsWith("blob container ", StringComparison.Ordinal));
        Assert.Equal("blob container runs", storage.Scope);
        Assert.NotEqual("none", storage.Condition);

        // The role itself: blob read and write only, nothing else.
        var role = Assert.Single(Deployment.Value.OfType("Microsoft.Authorization/roleDefinitions"), r => r.GetProperty("properties").GetProperty("roleName").GetString()!.StartsWith("Trainer job data", StringComparison.Ordinal));
        var permissions = Assert.Single(role.GetProperty("properties").GetProperty("permissions").EnumerateArray());
        Assert.Equal(
            ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"],
            permissions.GetProperty("dataActions").EnumerateArray().Select(a => a.GetString()!).Order(StringComparer.Ordinal));
        Assert.Empty(permissions.GetProperty("actions").EnumerateArray());
    }

    [Fact]
    public void TheJobs_RunAsTheTrainerIdentity_AndTheAppAsItsOwn()
    {
        var deployment = Deployment.Value;
        static IEnumerable<string> Identities(JsonElement resource) => resource.GetProperty("identity").GetProperty("userAssignedIdentities").EnumerateObject().Select(p => p.Name);

        foreach (var job in deployment.OfType("Microsoft.App/jobs"))
        {
            Assert.All(Identities(job), id => Assert.Contains("/id-trainer-", id, StringComparison.Ordinal));
            var registry = Assert.Single(job.GetProperty("properties").GetProperty("configuration").GetProperty("registries").EnumerateArray());
            Assert.Contains("/id-trainer-", registry.GetProperty("identity").GetString(), StringComparison.Ordinal);
        }

        var app = Assert.Single(deployment.OfType("Microsoft.Web/sites"));
        Assert.All(Identities(app), id => Assert.DoesNotContain("/id-trainer-", id, StringComparison.Ordinal));
    }

    [Fact]
    public void WithoutADeployingPrincipal_NoAssignmentIsMadeForOne()
    {
        var (deployment, message) = BicepCli.Snapshot();
        Assert.True(deployment is not null, message);

        Assert.DoesNotContain(
            deployment.OfType("Microsoft.Authorization/roleAssignments"),
            r => r.GetProperty("properties").GetProperty("principalType").GetString() != "ServicePrincipal");
    }

    [GeneratedRegex(@"roleDefinitions/([0-9a-fA-F-]{36})")]
    private static partial Regex RoleGuid();

    [GeneratedRegex(@" \([^)]*\)$")]
    private static partial Regex RoleSuffix();

    [GeneratedRegex(@" \(custom: [^)]*\)$")]
    private static partial Regex CustomNote();

    [GeneratedRegex(@"userAssignedIdentities/(id-(?:[a-z]+-)?)[a-z0-9]+'")]
    private static partial Regex IdentityName();

    [GeneratedRegex(@"^\[extensionResourceId\('([^']*)'")]
    private static partial Regex ExtensionId();

    [GeneratedRegex(@"ActionMatches\{'Microsoft\.Storage/storageAccounts/blobServices/containers/blobs/(?<action>\w+)'\}\)\)\s*OR\s*\((?<paths>(?:@Resource\[[^\]]*\]\s+StringLike\s+'[^']*'(?:\s+OR\s+)?)+)\)")]
    private static partial Regex Clause();

    [GeneratedRegex(@"StringLike\s+'([^']*)'")]
    private static partial Regex PathPattern();
}
