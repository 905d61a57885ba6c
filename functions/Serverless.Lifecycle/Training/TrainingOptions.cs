using System.ComponentModel.DataAnnotations;

namespace Serverless.Lifecycle.Training;

/// <summary>Where training jobs run and how the pipeline hears from them; validated at start.</summary>
public sealed class TrainingOptions : IValidatableObject
{
    public const string SectionName = "Training";

    /// <summary>local-process (laptop mode, <c>func start</c>) or container-apps-job (Azure); see <see cref="TrainingDispatchers"/>.</summary>
    public string Dispatcher { get; set; } = TrainingDispatchers.LocalProcess;

    /// <summary>
    /// The trainer program for the local-process dispatcher: the path of
    /// <c>Serverless.Trainer.dll</c> (run with <c>dotnet</c>) or of its executable.
    /// </summary>
    public string? TrainerPath { get; set; }

    /// <summary>
    /// local-process: the command the trainer is started through, word by word (the program, then its
    /// arguments); the trainer path and <c>--job</c> follow them. For example
    /// <c>["chroot", "/var/cache/trixie", "/usr/share/dotnet/dotnet"]</c> runs it in a root file system
    /// with a newer C++ runtime, as its container would. With a launcher a <c>.dll</c> trainer is not
    /// prefixed with <c>dotnet</c>: the launcher names the runtime. Empty: the trainer is started directly.
    /// </summary>
    public IList<string> TrainerLauncher { get; } = [];

    /// <summary>
    /// The deep trainer for the local-process dispatcher: the path of <c>Serverless.Trainer.Deep.dll</c>,
    /// which trains the algorithms placed on the GPU job (<c>mlp</c>; see <see cref="Specs.TrainerAlgorithms.Placement"/>).
    /// Unset, a run with such an algorithm fails at its training step and says so.
    /// </summary>
    public string? DeepTrainerPath { get; set; }

    /// <summary>
    /// local-process: the command the deep trainer is started through, as <see cref="TrainerLauncher"/> is for the
    /// other one. Its libtorch needs libstdc++ with GLIBCXX_3.4.32 (GCC 13); on an older system, for example
    /// <c>["scripts/rootfs-run.sh", "/var/cache/serverless-lifecycle/trixie", "/usr/share/dotnet/dotnet"]</c>
    /// runs it in a Debian 13 root file system (README, "Deep models").
    /// </summary>
    public IList<string> DeepTrainerLauncher { get; } = [];

    /// <summary>Extra environment variables passed to the trainer process, for example a thread count.</summary>
    public Dictionary<string, string> Environment { get; set; } = [];

    /// <summary>
    /// local-process: where the dispatcher records each running trainer's process id and start time,
    /// so a restarted host recognizes a trainer an earlier host started (and does not start a second
    /// one on the same job). Default: a folder under the system's temp directory.
    /// </summary>
    public string? LocalStateDirectory { get; set; }

    /// <summary>The Container Apps job that runs the trainer image (container-apps-job dispatcher).</summary>
    public ContainerAppsJobOptions ContainerAppsJob { get; set; } = new();

    /// <summary>
    /// The app's own base URL (for example <c>https://myapp.azurewebsites.net</c>); when set, each job
    /// spec carries <c>{CallbackBaseUrl}/api/runs/{runId}/jobs/{jobId}/complete</c> and the trainer
    /// posts its completion there, so the run goes on at once instead of at its next status check.
    /// </summary>
    public Uri? CallbackBaseUrl { get; set; }

    /// <summary>
    /// In Azure, the audience the trainer asks its managed identity for a token for (the app
    /// registration's <c>api://{clientId}</c>) and sends as a bearer token with its callback; the app
    /// accepts it from the trainer identity alone (<see cref="TrainerPrincipalId"/>). No secret is in
    /// the job spec. Laptop mode needs none.
    /// </summary>
    public string? CallbackAudience { get; set; }

    /// <summary>The object ID of the trainer's identity: the only caller the callback route takes in Azure.</summary>
    public string? TrainerPrincipalId { get; set; }

    /// <summary>How long the pipeline waits for a completion callback before it checks the job itself.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan StatusCheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times a job that ended without reporting is started in all (first start included).</summary>
    [Range(1, 10)]
    public int MaxJobStarts { get; set; } = 3;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!TrainingDispatchers.All.Contains(Dispatcher))
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(Dispatcher)} is '{Dispatcher}'; use one of {string.Join(", ", TrainingDispatchers.All)}.",
                [nameof(Dispatcher)]);
        }

        foreach (var (name, launcher) in new[] { (nameof(TrainerLauncher), TrainerLauncher), (nameof(DeepTrainerLauncher), DeepTrainerLauncher) })
        {
            if (launcher.Any(string.IsNullOrWhiteSpace))
            {
                yield return new ValidationResult($"{SectionName}:{name} has an empty word; give the program and each argument as one entry.", [name]);
            }
        }

        // Unset, the first run says so; an absolute path to a file that is not there, the host says so at
        // start. A relative path is left to the run: it is read against the process's current folder,
        // which func start and the worker may not share with the one the host starts in.
        foreach (var (name, path) in new[] { (nameof(TrainerPath), TrainerPath), (nameof(DeepTrainerPath), DeepTrainerPath) })
        {
            if (Dispatcher == TrainingDispatchers.LocalProcess && !string.IsNullOrWhiteSpace(path) && Path.IsPathRooted(path) && !File.Exists(path))
            {
                yield return new ValidationResult($"{SectionName}:{name} must name the built trainer program; '{path}' does not exist.", [name]);
            }
        }

        if (Dispatcher == TrainingDispatchers.ContainerAppsJob)
        {
            foreach (var problem in ContainerAppsJob.Validate())
            {
                yield return new ValidationResult($"{SectionName}:{nameof(ContainerAppsJob)}:{problem}", [nameof(ContainerAppsJob)]);
            }
        }

        if (CallbackBaseUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && !url.IsLoopback)))
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(CallbackBaseUrl)} must be an absolute https URL (http only for loopback); got '{url}'.",
                [nameof(CallbackBaseUrl)]);
        }
    }
}

public static class TrainingDispatchers
{
    public const string LocalProcess = "local-process";
    public const string ContainerAppsJob = "container-apps-job";

    /// <summary>Tests only: the trainer runs inside the host (registered by the test host itself).</summary>
    public const string InProcess = "in-process";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { LocalProcess, ContainerAppsJob, InProcess };
}

/// <summary>The Container Apps job that runs the trainer, addressed through Azure Resource Manager.</summary>
public sealed class ContainerAppsJobOptions
{
    public string? SubscriptionId { get; set; }

    public string? ResourceGroup { get; set; }

    public string? JobName { get; set; }

    /// <summary>
    /// The Container Apps job on a GPU workload profile that runs the deep trainer image, for the
    /// algorithms placed on the GPU (<c>mlp</c>); empty when the deployment has no GPU job, and then
    /// such a run fails at its training step saying so.
    /// </summary>
    public string? GpuJobName { get; set; }

    /// <summary>The job's container that runs the trainer; may be left empty when the job has one container.</summary>
    public string? ContainerName { get; set; }

    /// <summary>Azure Resource Manager; another cloud's endpoint (or a test server) when needed.</summary>
    public Uri ManagementEndpoint { get; set; } = new("https://management.azure.com");

    /// <summary>The Microsoft.App API version the requests use.</summary>
    public string ApiVersion { get; set; } = "2025-01-01";

    /// <summary>Client id of the user-assigned managed identity that may start the job; empty for the default credential chain.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>
    /// Hardware of a CPU job's execution, overriding the job's template when set: cores (for example 4) and
    /// memory (for example "8Gi"; on the Consumption profile twice the cores in GiB). The GPU job keeps its template's.
    /// </summary>
    public double? Cpu { get; set; }

    public string? Memory { get; set; }

    internal IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(SubscriptionId) || !Guid.TryParse(SubscriptionId, out _))
        {
            yield return $"{nameof(SubscriptionId)} must be the subscription's GUID; got '{SubscriptionId}'.";
        }

        if (string.IsNullOrWhiteSpace(ResourceGroup))
        {
            yield return $"{nameof(ResourceGroup)} is required.";
        }

        if (string.IsNullOrWhiteSpace(JobName))
        {
            yield return $"{nameof(JobName)} is required (the Container Apps job that runs the trainer image).";
        }

        if (!ManagementEndpoint.IsAbsoluteUri || ManagementEndpoint.Scheme != Uri.UriSchemeHttps)
        {
            yield return $"{nameof(ManagementEndpoint)} must be an absolute https URL; got '{ManagementEndpoint}'.";
        }

        if (Cpu is <= 0 || (Cpu is not null) != !string.IsNullOrWhiteSpace(Memory))
        {
            yield return $"{nameof(Cpu)} and {nameof(Memory)} go together (for example 4 and \"8Gi\"); got {Cpu?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} and '{Memory}'.";
        }
    }
}
