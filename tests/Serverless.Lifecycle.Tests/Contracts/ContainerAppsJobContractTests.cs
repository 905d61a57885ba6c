using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Tests.Training;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Tests.Contracts;

/// <summary>
/// The Container Apps dispatcher's Resource Manager calls checked against Azure's own Microsoft.App
/// specification (api-version 2025-01-01, vendored in Contracts/): every request is an operation the
/// specification declares (method, path template and its parameters, api-version) with a body that is
/// the declared definition (no property it does not declare, none it marks readOnly, the declared
/// types), and the loopback Resource Manager answers with the official examples' bodies, which the
/// dispatcher reads as the specification means them.
/// </summary>
public sealed class ContainerAppsJobContractTests : IAsyncLifetime
{
    private const string GpuJob = "trainer-gpu-job";

    /// <summary>What the dispatcher makes of each status JobExecutionRunningState defines.</summary>
    private static readonly Dictionary<string, JobExecutionState> StatusMeaning = new(StringComparer.Ordinal)
    {
        ["Running"] = JobExecutionState.Running,
        ["Processing"] = JobExecutionState.Running,
        ["Stopped"] = JobExecutionState.Ended,
        ["Degraded"] = JobExecutionState.Ended,
        ["Failed"] = JobExecutionState.Ended,
        ["Unknown"] = JobExecutionState.Unknown,
        ["Succeeded"] = JobExecutionState.Ended,
    };

    private static SwaggerContract Spec => MicrosoftAppContract.Spec;

    private FakeContainerAppsArm arm = null!;

    public async Task InitializeAsync() => arm = await FakeContainerAppsArm.StartAsync();

    public async Task DisposeAsync() => await arm.DisposeAsync();

    private ContainerAppsJobDispatcher Dispatcher(Action<TrainingOptions>? configure = null)
    {
        var options = ContainerAppsJobDispatcherTests.Options(arm.Endpoint);
        configure?.Invoke(options);
        return new ContainerAppsJobDispatcher(Microsoft.Extensions.Options.Options.Create(options), new StaticTokenCredential(), arm.Transport(), NullLogger<ContainerAppsJobDispatcher>.Instance, retryDelay: TimeSpan.FromMilliseconds(50));
    }

    /// <summary>The path and query an official example's parameters name for an operation's path template.</summary>
    private static string PathOf(string template, JsonObject parameters) =>
        parameters.Where(p => p.Value is JsonValue).Aggregate(template, (path, p) => path.Replace("{" + p.Key + "}", Uri.EscapeDataString(p.Value!.GetValue<string>()), StringComparison.Ordinal))
        + "?api-version=" + parameters["api-version"]!.GetValue<string>();

    public static TheoryData<string, string, string> OfficialExamples => new()
    {
        { "Job_Get.json", "GET", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.App/jobs/{jobName}" },
        { "Job_Start.json", "POST", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.App/jobs/{jobName}/start" },
        { "Job_Execution_Get.json", "GET", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.App/jobs/{jobName}/executions/{jobExecutionName}" },
        { "Job_Stop_Execution.json", "POST", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.App/jobs/{jobName}/executions/{jobExecutionName}/stop" },
    };

    /// <summary>
    /// The checker itself: Azure's examples of the four operations conform (their requests and every
    /// response body), so a failure elsewhere is the product's or the fake's, not the checker's.
    /// </summary>
    [Theory]
    [MemberData(nameof(OfficialExamples))]
    public void OfficialExample_ConformsToTheVendoredSpecification(string example, string method, string template)
    {
        var file = MicrosoftAppContract.Example(example);
        var parameters = file["parameters"]!.AsObject();

        var operation = Spec.Operation(MicrosoftAppContract.Jobs, method, PathOf(template, parameters));

        Assert.Equal(template, operation.PathTemplate);
        if (SwaggerContract.BodyDefinition(operation) is { } bodyDefinition)
        {
            var body = parameters.Single(p => p.Value is JsonObject).Value;
            Assert.Empty(Spec.Validate(MicrosoftAppContract.Jobs, bodyDefinition, body, BodyDirection.Request));
        }

        foreach (var (status, response) in file["responses"]!.AsObject())
        {
            var definition = SwaggerContract.ResponseDefinition(operation, int.Parse(status, CultureInfo.InvariantCulture));
            var body = response!["body"];
            if (definition is null)
            {
                Assert.Null(body);
            }
            else
            {
                Assert.Empty(ValidateResponse(definition, body));
            }
        }
    }

    /// <summary>Every kind of departure from the specification is reported, so the checks below can fail.</summary>
    [Fact]
    public void Checker_ReportsWhatTheSpecificationDoesNotAllow()
    {
        var template = MicrosoftAppContract.Example("Job_Start.json")["parameters"]!["template"]!;
        JsonNode With(Action<JsonNode> change)
        {
            var copy = template.DeepClone();
            change(copy);
            return copy;
        }

        var undeclared = With(t => t["containers"]![0]!["volumeMounts"] = new JsonArray());
        var mistyped = With(t => t["containers"]![0]!["resources"]!["cpu"] = "0.5");
        var readOnly = With(t => t["containers"]![0]!["resources"]!["ephemeralStorage"] = "1Gi");
        var envTypo = With(t => t["containers"]![0]!["env"] = new JsonArray(new JsonObject { ["name"] = "A", ["val"] = "b" }));
        var execution = MicrosoftAppContract.ExampleResponse("Job_Execution_Get.json", 200)!;
        execution["properties"]!["status"] = "Canceled";
        execution["properties"]!["startTime"] = "yesterday";

        Assert.Contains(Spec.Validate(MicrosoftAppContract.Jobs, "JobExecutionTemplate", undeclared, BodyDirection.Request), e => e.StartsWith("/containers/0/volumeMounts:", StringComparison.Ordinal));
        Assert.Contains(Spec.Validate(MicrosoftAppContract.Jobs, "JobExecutionTemplate", mistyped, BodyDirection.Request), e => e.StartsWith("/containers/0/resources/cpu:", StringComparison.Ordinal));
        Assert.Contains(Spec.Validate(MicrosoftAppContract.Jobs, "JobExecutionTemplate", readOnly, BodyDirection.Request), e => e.StartsWith("/containers/0/resources/ephemeralStorage:", StringComparison.Ordinal));
        Assert.Empty(Spec.Validate(MicrosoftAppContract.Jobs, "JobExecutionTemplate", readOnly, BodyDirection.Response));
        Assert.Contains(Spec.Validate(MicrosoftAppContract.Jobs, "JobExecutionTemplate", envTypo, BodyDirection.Request), e => e.StartsWith("/containers/0/env/0/val:", StringComparison.Ordinal));
        Assert.Contains(Spec.Validate(MicrosoftAppContract.Jobs, "JobExecutionTemplate", new JsonObject { ["containers"] = new JsonObject() }, BodyDirection.Request), e => e.StartsWith("/containers:", StringComparison.Ordinal));
        var executionErrors = Spec.Validate(MicrosoftAppContract.Jobs, "JobExecution", execution, BodyDirection.Response);
        Assert.Contains(executionErrors, e => e.StartsWith("/properties/status:", StringComparison.Ordinal));
        Assert.Contains(executionErrors, e => e.StartsWith("/properties/startTime:", StringComparison.Ordinal));
        var probe = JsonNode.Parse("""{"containers":[{"name":"a","probes":[{"type":"Liveness","httpGet":{"path":"/"}}]}]}""");
        Assert.Contains(Spec.Validate(MicrosoftAppContract.CommonDefinitions, "JobTemplate", probe, BodyDirection.Response), e => e.StartsWith("/containers/0/probes/0/httpGet:", StringComparison.Ordinal));

        var path = $"{FakeContainerAppsArm.JobPath}/start?api-version=";
        Assert.Contains("api-version 2024-03-01 is not this document's 2025-01-01", Assert.Throws<InvalidOperationException>(() => Spec.Operation(MicrosoftAppContract.Jobs, "POST", path + "2024-03-01")).Message, StringComparison.Ordinal);
        Assert.Contains("required query parameter api-version is missing", Assert.Throws<InvalidOperationException>(() => Spec.Operation(MicrosoftAppContract.Jobs, "POST", path.Split('?')[0])).Message, StringComparison.Ordinal);
        Assert.Contains("jobName 'trainer job'", Assert.Throws<InvalidOperationException>(() => Spec.Operation(MicrosoftAppContract.Jobs, "POST", FakeContainerAppsArm.JobPathOf("trainer%20job") + "/start?api-version=2025-01-01")).Message, StringComparison.Ordinal);
        Assert.Contains("has no DELETE operation", Assert.Throws<InvalidOperationException>(() => Spec.Operation(MicrosoftAppContract.Jobs, "DELETE", path + "2025-01-01")).Message, StringComparison.Ordinal);
        Assert.Contains("is no operation", Assert.Throws<InvalidOperationException>(() => Spec.Operation(MicrosoftAppContract.Jobs, "POST", FakeContainerAppsArm.JobPath + "/stop?api-version=2025-01-01")).Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> Deployments => new() { "cpu job", "cpu job with hardware set", "gpu job", "start answered 202", "a trainer image of the model's own" };

    private const string OwnImage = "contoso.azurecr.io/trainers/sklearn:1.4";

    /// <summary>
    /// A training job's whole life (start, status, stop) as each deployment runs it: every request the
    /// dispatcher sends is one of the four operations, with its parameters and api-version as declared,
    /// a JSON body where the operation takes one and none where it does not.
    /// </summary>
    [Theory]
    [MemberData(nameof(Deployments))]
    public async Task EveryRequest_IsADeclaredOperation_WithAConformingBody(string deployment)
    {
        arm.StartAnswersAccepted = deployment == "start answered 202";
        var dispatcher = Dispatcher(o =>
        {
            o.ContainerAppsJob.GpuJobName = GpuJob;
            (o.ContainerAppsJob.Cpu, o.ContainerAppsJob.Memory) = deployment == "cpu job with hardware set" ? ((double?)8, (string?)"56Gi") : (null, null);
        });
        var job = ContainerAppsJobDispatcherTests.Job() with { Algorithm = deployment == "gpu job" ? TrainerAlgorithms.Mlp : "lightgbm" };
        if (deployment == "a trainer image of the model's own")
        {
            job = job with
            {
                Algorithm = "sklearn-logreg",
                Model = job.Model with { Trainer = job.Model.Trainer with { Algorithm = "sklearn-logreg", Image = OwnImage, Command = ["python3", "/app/train.py"] } },
            };
        }

        var execution = await dispatcher.StartAsync(job, CancellationToken.None);
        await dispatcher.GetStatusAsync(job, execution, CancellationToken.None);
        await dispatcher.StopAsync(job, execution, CancellationToken.None);
        await dispatcher.StopAsync(job, execution, CancellationToken.None);
        await dispatcher.GetStatusAsync(job, "gone-1", CancellationToken.None);

        var operations = new List<string>();
        foreach (var request in arm.Requests)
        {
            if (request.PathAndQuery.StartsWith("/operations/", StringComparison.Ordinal))
            {
                // A 202's Location, followed as given: not a path of the specification.
                Assert.Equal("GET", request.Method);
                Assert.True(arm.StartAnswersAccepted);
                continue;
            }

            var operation = Spec.Operation(MicrosoftAppContract.Jobs, request.Method, request.PathAndQuery);
            operations.Add(operation.OperationId);
            Assert.Equal("Bearer " + FakeContainerAppsArm.Token, request.Authorization);
            if (SwaggerContract.BodyDefinition(operation) is { } definition)
            {
                Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);
                var errors = Spec.Validate(MicrosoftAppContract.Jobs, definition, JsonNode.Parse(request.Body), BodyDirection.Request);
                Assert.True(errors.Count == 0, $"{operation.OperationId} body {request.Body} is not a {definition}:\n{string.Join("\n", errors)}");
            }
            else
            {
                Assert.Equal(string.Empty, request.Body);
            }
        }

        Assert.Equal(["Jobs_Get", "Jobs_Start", "JobExecution", "Jobs_StopExecution", "Jobs_StopExecution", "JobExecution"], operations);
        var started = JsonNode.Parse(arm.Requests.First(r => r.Method == "POST" && r.PathAndQuery.Contains("/start?", StringComparison.Ordinal)).Body)!["containers"]![0]!;
        var jobEnvironment = started["env"]!.AsArray().Single(e => (string)e!["name"]! == ContainerAppsJobDispatcher.JobEnvironmentVariable)!;
        Assert.Equal(TrainingJobPaths.Spec(job.RunId, job.JobId).ToString(), (string)jobEnvironment["value"]!);
        if (deployment == "a trainer image of the model's own")
        {
            // The model's own image and command run in the job's container, with its environment.
            Assert.Equal(OwnImage, (string)started["image"]!);
            Assert.Equal(["python3", "/app/train.py"], started["command"]!.AsArray().Select(w => (string)w!));
            Assert.Null(started["args"]);
        }
        else
        {
            Assert.NotEqual(OwnImage, (string)started["image"]!);
        }
        var expectedJob = deployment == "gpu job" ? GpuJob : FakeContainerAppsArm.JobName;
        Assert.All(arm.Requests.Where(r => r.PathAndQuery.StartsWith("/subscriptions/", StringComparison.Ordinal)), r => Assert.StartsWith(FakeContainerAppsArm.JobPathOf(expectedJob) + "/", r.PathAndQuery.Split('?')[0] + "/", StringComparison.Ordinal));
    }

    /// <summary>
    /// A job template as Resource Manager may return it, with everything CommonDefinitions.json's
    /// Container allows (readOnly ephemeralStorage, probes, volume mounts, a secret environment
    /// variable): the start posts an execution container, which takes none of the container's
    /// other properties and no readOnly one.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Start_FromATemplateWithEveryContainerProperty_PostsOnlyWhatAnExecutionContainerTakes(bool hardwareSet)
    {
        arm.EditContainer = container =>
        {
            container["command"] = new JsonArray("dotnet", "Serverless.Trainer.dll");
            container["args"] = new JsonArray("--verbose");
            container["env"]!.AsArray().Add(new JsonObject { ["name"] = "Secret__Key", ["secretRef"] = "key" });
            container["resources"]!["ephemeralStorage"] = "8Gi";
            container["probes"] = new JsonArray(new JsonObject { ["type"] = "Liveness", ["tcpSocket"] = new JsonObject { ["port"] = 8080 } });
            container["volumeMounts"] = new JsonArray(new JsonObject { ["volumeName"] = "scratch", ["mountPath"] = "/scratch" });
        };
        var served = arm.JobBody(FakeContainerAppsArm.JobName)["properties"]!["template"];
        Assert.Empty(Spec.Validate(MicrosoftAppContract.CommonDefinitions, "JobTemplate", served, BodyDirection.Response));
        var dispatcher = Dispatcher(o => (o.ContainerAppsJob.Cpu, o.ContainerAppsJob.Memory) = hardwareSet ? ((double?)2, (string?)"4Gi") : (null, null));

        await dispatcher.StartAsync(ContainerAppsJobDispatcherTests.Job(), CancellationToken.None);

        var body = JsonNode.Parse(arm.Requests.Single(r => r.Method == "POST").Body);
        var errors = Spec.Validate(MicrosoftAppContract.Jobs, "JobExecutionTemplate", body, BodyDirection.Request);
        Assert.True(errors.Count == 0, $"The start body {body!.ToJsonString()} is not a JobExecutionTemplate request:\n{string.Join("\n", errors)}");
        var container = body!["containers"]![0]!;
        Assert.Equal(["dotnet", "Serverless.Trainer.dll"], container["command"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal(["--verbose"], container["args"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Contains(container["env"]!.AsArray(), e => e!["name"]!.GetValue<string>() == "Secret__Key" && e["secretRef"]!.GetValue<string>() == "key");
        Assert.Equal(hardwareSet ? (2.0, "4Gi") : (4.0, "16Gi"), (container["resources"]!["cpu"]!.GetValue<double>(), container["resources"]!["memory"]!.GetValue<string>()));
    }

    /// <summary>
    /// The loopback Resource Manager answers as the specification says: every body it gave in a
    /// job's life (the job, the started execution, its status, the stop, the errors) is the declared
    /// definition, and has the official example's shape (the same properties, of the same kinds).
    /// </summary>
    [Fact]
    public async Task FakeResponses_AreTheDeclaredDefinitions_ShapedLikeTheOfficialExamples()
    {
        var dispatcher = Dispatcher();
        var job = ContainerAppsJobDispatcherTests.Job();
        arm.Fail("start", 429, retryAfterSeconds: 0);
        var execution = await dispatcher.StartAsync(job, CancellationToken.None);
        await dispatcher.GetStatusAsync(job, execution, CancellationToken.None);
        await dispatcher.StopAsync(job, execution, CancellationToken.None);
        await dispatcher.StopAsync(job, execution, CancellationToken.None);
        await dispatcher.GetStatusAsync(job, "gone-1", CancellationToken.None);

        var examples = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Jobs_Get"] = "Job_Get.json",
            ["Jobs_Start"] = "Job_Start.json",
            ["JobExecution"] = "Job_Execution_Get.json",
            ["Jobs_StopExecution"] = "Job_Stop_Execution.json",
        };
        var statuses = new List<string>();
        foreach (var (method, path, status, text) in arm.Responses)
        {
            var operation = Spec.Operation(MicrosoftAppContract.Jobs, method, $"{path}?api-version={MicrosoftAppContract.ApiVersion}");
            statuses.Add($"{operation.OperationId} {status}");
            var body = text.Length == 0 ? null : JsonNode.Parse(text);
            if (status >= 400)
            {
                Assert.Empty(Spec.Validate(MicrosoftAppContract.CommonDefinitions, "DefaultErrorResponse", body, BodyDirection.Response));
                continue;
            }

            var definition = SwaggerContract.ResponseDefinition(operation, status);
            if (definition is null)
            {
                Assert.Null(body);
                continue;
            }

            var errors = ValidateResponse(definition, body);
            Assert.True(errors.Count == 0, $"{operation.OperationId} {status} {text} is not a {definition}:\n{string.Join("\n", errors)}");
            Assert.Equal(Shape(MicrosoftAppContract.ExampleResponse(examples[operation.OperationId], status)), Shape(body));
        }

        Assert.Equal(["Jobs_Get 200", "Jobs_Start 429", "Jobs_Start 200", "JobExecution 200", "Jobs_StopExecution 200", "Jobs_StopExecution 409", "JobExecution 404"], statuses);
    }

    public static TheoryData<string> SpecifiedStatuses
    {
        get
        {
            var statuses = new TheoryData<string>();
            foreach (var status in StatusEnum())
            {
                statuses.Add(status);
            }

            return statuses;
        }
    }

    /// <summary>Each execution status the specification defines, in Job_Execution_Get.json's body, is read as what it means.</summary>
    [Theory]
    [MemberData(nameof(SpecifiedStatuses))]
    public async Task GetStatus_ReadsEveryStatusTheSpecificationDefines(string status)
    {
        var dispatcher = Dispatcher();
        var job = ContainerAppsJobDispatcherTests.Job();
        var execution = await dispatcher.StartAsync(job, CancellationToken.None);
        arm.Executions[execution] = status;

        var read = await dispatcher.GetStatusAsync(job, execution, CancellationToken.None);

        Assert.Equal(StatusMeaning[status], read.State);
        Assert.Contains(status, read.Detail, StringComparison.Ordinal);
    }

    /// <summary>The statuses the test knows are exactly the specification's: a new one in a newer vendored version fails here until it is given a meaning.</summary>
    [Fact]
    public void StatusMeanings_CoverExactlyTheSpecificationsEnum() =>
        Assert.Equal(StatusEnum().Order(StringComparer.Ordinal), StatusMeaning.Keys.Order(StringComparer.Ordinal));

    /// <summary>Job_Execution_Get.json's body as it is (execution jobExecution1, Running), and Job_Start.json's 200 body's name.</summary>
    [Fact]
    public async Task Dispatcher_ReadsTheOfficialExampleBodiesAsTheyAre()
    {
        var dispatcher = Dispatcher();
        var job = ContainerAppsJobDispatcherTests.Job();
        var example = MicrosoftAppContract.ExampleResponse("Job_Execution_Get.json", 200)!;
        var name = example["name"]!.GetValue<string>();
        arm.Executions[name] = example["properties"]!["status"]!.GetValue<string>();

        var status = await dispatcher.GetStatusAsync(job, name, CancellationToken.None);
        var started = await dispatcher.StartAsync(job, CancellationToken.None);

        Assert.Equal(JobExecutionState.Running, status.State);
        Assert.True(JsonNode.DeepEquals(example, JsonNode.Parse(arm.Responses.First(r => r.Path.EndsWith("/executions/" + name, StringComparison.Ordinal)).Body)));
        var startBody = JsonNode.Parse(arm.Responses.Single(r => r.Path.EndsWith("/start", StringComparison.Ordinal)).Body)!;
        Assert.Equal(startBody["name"]!.GetValue<string>(), started);
        Assert.Equal(Shape(MicrosoftAppContract.ExampleResponse("Job_Start.json", 200)), Shape(startBody));
    }

    private static IEnumerable<string> StatusEnum() =>
        Spec.Document(MicrosoftAppContract.Jobs)["definitions"]!["JobExecution"]!["properties"]!["properties"]!["properties"]!["status"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>());

    /// <summary>
    /// A response body against its definition. The Job definition (a TrackedResource with its
    /// configuration) is not vendored: of a job the dispatcher reads only properties.template, a JobTemplate.
    /// </summary>
    private static IReadOnlyList<string> ValidateResponse(string definition, JsonNode? body) =>
        definition == "Job"
            ? Spec.Validate(MicrosoftAppContract.CommonDefinitions, "JobTemplate", body?["properties"]?["template"], BodyDirection.Response)
            : Spec.Validate(MicrosoftAppContract.Jobs, definition, body, BodyDirection.Response);

    /// <summary>
    /// The properties a body has and the kind of each value, by path; what a template holds is left
    /// to the schema (a job's containers are the deployment's, an execution's the ones it was started with).
    /// </summary>
    private static List<string> Shape(JsonNode? node, string path = "")
    {
        switch (node)
        {
            case null:
                return [$"{path}: null"];
            case JsonObject when path.EndsWith("/template", StringComparison.Ordinal):
                return [$"{path}: template"];
            case JsonObject o:
                return [.. o.SelectMany(p => Shape(p.Value, $"{path}/{p.Key}")).Order(StringComparer.Ordinal)];
            case JsonArray a:
                return [.. a.SelectMany(item => Shape(item, path + "/[]")).Distinct().Order(StringComparer.Ordinal)];
            default:
                return [$"{path}: {node.GetValueKind()}"];
        }
    }
}
