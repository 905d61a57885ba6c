using System.Text.Json.Nodes;
using Serverless.Lifecycle.Specs;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Specs;

public sealed class ModelSpecValidatorTests
{
    private static JsonObject Sample() => JsonNode.Parse(File.ReadAllText(RepoPaths.SampleSpec))!.AsObject();

    private static IReadOnlyList<SpecProblem> ProblemsOf(JsonObject spec) => ModelSpecValidator.Parse(spec.ToJsonString()).Problems;

    [Fact]
    public void Parse_SampleSpec_HasNoProblems()
    {
        var (spec, problems) = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec));

        Assert.Empty(problems);
        Assert.Equal("churn", spec!.Name);
        Assert.Equal(6, spec.Features.Count);
        Assert.Equal(2, spec.Evaluation.Gate.Thresholds.Count);
    }

    [Fact]
    public void Parse_ATrainerOfItsOwn_TakesItsOwnAlgorithmAndHyperparameters_AndSearchesOverThem()
    {
        var json = Sample();
        json["trainer"] = JsonNode.Parse("""
            {"algorithm":"sklearn-logreg","hyperparameters":{"C":0.5,"max_iter":500},
             "image":"contoso.azurecr.io/trainers/sklearn:1.4","command":["python3","/app/train.py"],
             "localCommand":["/usr/bin/python3","samples/trainers/sklearn/train.py"],
             "search":{"strategy":"grid","trials":2,"space":{"C":{"values":[0.1,1]}}}}
            """);

        var (spec, problems) = ModelSpecValidator.Parse(json.ToJsonString());

        Assert.Empty(problems);
        Assert.True(spec!.Trainer.IsCustom);
        Assert.Equal(["/usr/bin/python3", "samples/trainers/sklearn/train.py"], spec.Trainer.LocalCommand!);
    }

    [Theory]
    [InlineData("""{"algorithm":"Sklearn LogReg","localCommand":["python3","t.py"]}""", "$.trainer.algorithm", "names its algorithm")]
    [InlineData("""{"algorithm":"lightgbm","localCommand":["python3","t.py"]}""", "$.trainer.algorithm", "is a built-in algorithm")]
    [InlineData("""{"algorithm":"own","localCommand":["python3","t.py"],"hyperparameters":{"1bad":1}}""", "$.trainer.hyperparameters.1bad", "starting with a letter")]
    [InlineData("""{"algorithm":"own","image":"contoso.azurecr.io/a b:1"}""", "$.trainer.image", "without spaces")]
    [InlineData("""{"algorithm":"own","localCommand":["python3"],"command":["python3","/app/t.py"]}""", "$.trainer.command", "set trainer.image too")]
    [InlineData("""{"algorithm":"own","localCommand":[]}""", "$.trainer.localCommand", "1 to 32 words")]
    [InlineData("""{"algorithm":"own","localCommand":["python3",""]}""", "$.trainer.localCommand[1]", "cannot be empty")]
    public void Parse_ATrainerOfItsOwn_NamesEachProblemByItsPath(string trainer, string path, string message)
    {
        var json = Sample();
        json["trainer"] = JsonNode.Parse(trainer);

        var problem = Assert.Single(ProblemsOf(json));

        Assert.Equal(path, problem.Path);
        Assert.Contains(message, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MlpWithEveryHyperparameterInRange_HasNoProblems_AndSearchesLikeTheTrees()
    {
        var json = Sample();
        json["trainer"] = JsonNode.Parse("""
            {"algorithm":"mlp","seed":7,"hyperparameters":{"hiddenLayer1Units":128,"hiddenLayer2Units":64,"hiddenLayer3Units":0,"dropout":0,"learningRate":0.001,
             "epochs":100,"batchSize":512,"weightDecay":0,"patience":0},
             "search":{"strategy":"grid","trials":4,"space":{"hiddenLayer1Units":{"values":[32,64]},"dropout":{"values":[0,0.2]}}}}
            """);

        var (spec, problems) = ModelSpecValidator.Parse(json.ToJsonString());

        Assert.Empty(problems);
        Assert.Equal([128, 64], MlpHyperparameters.HiddenLayers(spec!.Trainer.Hyperparameters));
        Assert.Equal(TrainerPlacements.Gpu, TrainerAlgorithms.Placement(spec.Trainer.Algorithm));
    }

    [Theory]
    [InlineData("dropout", 1.5, "at most 0.9")]
    [InlineData("epochs", 2.5, "a whole number")]
    [InlineData("epochs", 0, "at least 1")]
    [InlineData("learningRate", 0, "greater than 0")]
    [InlineData("batchSize", 100000, "at most 65536")]
    [InlineData("weightDecay", -0.1, "at least 0")]
    [InlineData("patience", -1, "at least 0")]
    [InlineData("hiddenLayer1Units", 0, "at least 1")]
    public void Parse_MlpHyperparameterOutOfRange_IsNamedByItsJsonPath(string name, double value, string expected)
    {
        var json = Sample();
        json["trainer"] = new JsonObject { ["algorithm"] = "mlp", ["hyperparameters"] = new JsonObject { [name] = value } };

        var problem = Assert.Single(ProblemsOf(json));

        Assert.Equal($"$.trainer.hyperparameters.{name}", problem.Path);
        Assert.Contains(expected, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MlpThirdLayerWithoutASecond_AndSearchValuesOutOfRange_AreNamed()
    {
        var json = Sample();
        json["trainer"] = JsonNode.Parse("""
            {"algorithm":"mlp","hyperparameters":{"hiddenLayer2Units":0,"hiddenLayer3Units":16},
             "search":{"strategy":"grid","space":{"dropout":{"values":[0.1,0.95]}}}}
            """);

        var problems = ProblemsOf(json).Select(p => p.Path).ToHashSet();

        Assert.Equal(new HashSet<string> { "$.trainer.hyperparameters.hiddenLayer3Units", "$.trainer.search.space.dropout.values[1]" }, problems);
    }

    [Fact]
    public void Parse_MlpSearch_RangesFromZeroAreAllowed_ButNotATrialWithALayerAfterAnEmptyOne()
    {
        var json = Sample();
        json["trainer"] = JsonNode.Parse("""
            {"algorithm":"mlp","hyperparameters":{"hiddenLayer3Units":16},
             "search":{"strategy":"random","trials":4,"space":{"dropout":{"min":0,"max":0.5},"hiddenLayer2Units":{"values":[0,32]}}}}
            """);

        var problem = Assert.Single(ProblemsOf(json));

        Assert.Equal("$.trainer.search.space.hiddenLayer2Units", problem.Path);
        Assert.Contains("hiddenLayer3Units must be 0", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"gate":{"maxFeatureShare":1.5}}""", "$.evaluation.gate.maxFeatureShare", "at most 1")]
    [InlineData("""{"gate":{"maxFeatureShare":0}}""", "$.evaluation.gate.maxFeatureShare", "above 0")]
    [InlineData("""{"importance":{"metric":"rmse"}}""", "$.evaluation.importance.metric", "Unknown metric 'rmse' for task binary")]
    [InlineData("""{"importance":{"repeats":0}}""", "$.evaluation.importance.repeats", "1 to 20")]
    [InlineData("""{"importance":{"maxRows":10}}""", "$.evaluation.importance.maxRows", "100 to 1000000")]
    [InlineData("""{"importance":null}""", "$.evaluation.importance", "Cannot be null")]
    public void Parse_ImportanceOptionsOutOfRange_AreNamedByTheirPath(string evaluation, string path, string message)
    {
        var json = Sample();
        json["evaluation"] = JsonNode.Parse(evaluation);

        var problem = Assert.Single(ProblemsOf(json));
        Assert.Equal(path, problem.Path);
        Assert.Contains(message, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ImportanceOptionsAndImportanceWeightedDrift_AreRead()
    {
        var json = Sample();
        json["evaluation"] = JsonNode.Parse("""{"gate":{"maxFeatureShare":0.6},"importance":{"metric":"logLoss","repeats":5,"maxRows":2000}}""");
        json["drift"] = JsonNode.Parse("""{"shareOf":"importance","driftedShare":0.5}""");

        var parsed = ModelSpecValidator.Parse(json.ToJsonString());

        Assert.Empty(parsed.Problems);
        var spec = parsed.Spec!;
        Assert.Equal((0.6, "logLoss", 5, 2000), (spec.Evaluation.Gate.MaxFeatureShare, spec.Evaluation.Importance.Metric, spec.Evaluation.Importance.Repeats, spec.Evaluation.Importance.MaxRows));
        Assert.Equal((DriftShares.Importance, 0.5), (spec.Drift.ShareOf, spec.Drift.DriftedShare));
        Assert.Equal((true, DriftShares.Features, (double?)null), (new EvaluationSpec().Importance.Enabled, new DriftSpec().ShareOf, new GateSpec().MaxFeatureShare));
    }

    [Fact]
    public void Parse_UnknownDriftShare_IsNamed()
    {
        var json = Sample();
        json["drift"] = JsonNode.Parse("""{"shareOf":"weights"}""");

        var problem = Assert.Single(ProblemsOf(json));
        Assert.Equal("$.drift.shareOf", problem.Path);
        Assert.Contains("features, importance", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownTask_NamesTheTaskPath()
    {
        var json = Sample();
        json["task"] = "ranking";

        var problem = Assert.Single(ProblemsOf(json));
        Assert.Equal("$.task", problem.Path);
        Assert.Contains("ranking", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LabelListedAmongFeatures_IsRefused()
    {
        var json = Sample();
        json["features"]!.AsArray().Add(new JsonObject { ["name"] = "churned", ["type"] = "numeric" });

        var problem = Assert.Single(ProblemsOf(json));
        Assert.Equal("$.features[6].name", problem.Path);
    }

    [Fact]
    public void Parse_MissingLabel_IsRefused()
    {
        var json = Sample();
        json.Remove("label");

        Assert.Contains(ProblemsOf(json), p => p.Path == "$.label");
    }

    [Fact]
    public void Parse_DuplicateFeature_NamesTheSecondOccurrence()
    {
        var json = Sample();
        json["features"]!.AsArray().Add(new JsonObject { ["name"] = "tenure_months", ["type"] = "numeric" });

        var problem = Assert.Single(ProblemsOf(json));
        Assert.Equal("$.features[6].name", problem.Path);
        Assert.Contains("Duplicate", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1.5, "min")]
    [InlineData(-0.1, "min")]
    public void Parse_ShareThresholdOutOfRange_IsRefused(double value, string bound)
    {
        var json = Sample();
        json["evaluation"]!["gate"]!["thresholds"]![0]![bound] = value;

        var problem = Assert.Single(ProblemsOf(json));
        Assert.Equal($"$.evaluation.gate.thresholds[0].{bound}", problem.Path);
        Assert.Contains("out of range", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownAlgorithm_IsRefused()
    {
        var json = Sample();
        json["trainer"]!["algorithm"] = "xgboost";

        var problem = Assert.Single(ProblemsOf(json));
        Assert.Equal("$.trainer.algorithm", problem.Path);
    }

    [Fact]
    public void Parse_FastTreeHyperparameters_AreAcceptedAndLightGbmsRefused()
    {
        var json = Sample();
        json["trainer"]!["algorithm"] = "fasttree";
        json["trainer"]!["hyperparameters"] = new JsonObject { ["numberOfTrees"] = 50, ["numberOfIterations"] = 50 };

        var problem = Assert.Single(ProblemsOf(json));
        Assert.Equal("$.trainer.hyperparameters.numberOfIterations", problem.Path);
    }

    [Fact]
    public void Parse_SearchWithProblems_ReportsEachByPath()
    {
        var json = Sample();
        json["trainer"]!["search"] = JsonNode.Parse("""
            {"strategy":"grid","trials":0,"maxParallel":40,"metric":"rmse",
             "space":{"numberOfLeaves":{"min":2,"max":8},"depth":{"values":[1]},"learningRate":{"values":[0.1,-1]}}}
            """);

        var paths = ProblemsOf(json).Select(p => p.Path).ToHashSet();

        Assert.Equal(
            new HashSet<string>
            {
                "$.trainer.search.trials", "$.trainer.search.maxParallel", "$.trainer.search.metric",
                "$.trainer.search.space.numberOfLeaves.values", "$.trainer.search.space.depth", "$.trainer.search.space.learningRate.values[1]",
            },
            paths);
    }

    /// <summary>Nulls where objects or lists belong, and infinities, are problems with their paths (they were exceptions, a 500).</summary>
    [Theory]
    [InlineData("features", "null", "drift", """{"features":{"contract":{"chiSquare":0.01}}}""", "$.features")]
    [InlineData("evaluation.gate", """{"slices":{"features":null}}""", null, null, "$.evaluation.gate.slices.features")]
    [InlineData("evaluation.gate", """{"slices":{"features":["contract"],"thresholds":null,"changes":null}}""", null, null, null)]
    [InlineData("trainer.search", """{"strategy":"random","trials":2,"space":{"numberOfLeaves":null}}""", null, null, "$.trainer.search.space.numberOfLeaves")]
    [InlineData("drift", """{"windowMinutes":"Infinity"}""", null, null, "$.drift.windowMinutes")]
    [InlineData("drift", """{"cooldownHours":"Infinity"}""", null, null, "$.drift.cooldownHours")]
    [InlineData("drift", """{"windowMinutes":600000}""", null, null, "$.drift.windowMinutes")]
    public void Parse_NullsAndInfinities_AreProblemsNotExceptions(string field, string value, string? otherField, string? otherValue, string? path)
    {
        var json = Sample();
        void Set(string dotted, string text)
        {
            var parts = dotted.Split('.');
            var parent = parts[..^1].Aggregate((JsonNode)json, (node, part) => node[part]!);
            parent[parts[^1]] = JsonNode.Parse(text);
        }

        Set(field, value);
        if (otherField is not null)
        {
            Set(otherField, otherValue!);
        }

        var problems = ProblemsOf(json);

        if (path is null)
        {
            Assert.Empty(problems);
        }
        else
        {
            Assert.Contains(problems, p => p.Path == path);
        }
    }

    [Fact]
    public void Parse_GateChangesAndSlicesWithProblems_ReportsEachByPath()
    {
        var json = Sample();
        json["evaluation"]!["gate"]!["changes"] = JsonNode.Parse("""[{"metric":"rmse","minDelta":0},{"metric":"auc"},{"metric":"auc","minDelta":0,"direction":"up"}]""");
        json["evaluation"]!["gate"]!["slices"] = JsonNode.Parse("""{"features":["tenure_months","nope"],"minRows":0,"thresholds":[{"metric":"auc","min":2}]}""");
        json["evaluation"]!["latencyBudgetMs"] = 0;
        json["evaluation"]!["approval"] = JsonNode.Parse("""{"required":true,"timeoutHours":0}""");

        var paths = ProblemsOf(json).Select(p => p.Path).ToHashSet();

        Assert.Equal(
            new HashSet<string>
            {
                "$.evaluation.gate.changes[0].metric", "$.evaluation.gate.changes[1]", "$.evaluation.gate.changes[2].direction",
                "$.evaluation.gate.slices.features[0]", "$.evaluation.gate.slices.features[1]", "$.evaluation.gate.slices.minRows",
                "$.evaluation.gate.slices.thresholds[0].min", "$.evaluation.latencyBudgetMs", "$.evaluation.approval.timeoutHours",
            },
            paths);
    }

    [Fact]
    public void Parse_RangeWithNaN_IsRefused()
    {
        var json = Sample();
        json["features"]![0]!["range"]!["min"] = "NaN";

        var problem = Assert.Single(ProblemsOf(json));
        Assert.Equal("$.features[0].range", problem.Path);
    }

    [Fact]
    public void Parse_UnknownHyperparameterAndNonPositiveValue_AreBothReported()
    {
        var json = Sample();
        json["trainer"]!["hyperparameters"] = new JsonObject { ["depth"] = 3, ["learningRate"] = 0 };

        var paths = ProblemsOf(json).Select(p => p.Path).ToHashSet();
        Assert.Equal(new HashSet<string> { "$.trainer.hyperparameters.depth", "$.trainer.hyperparameters.learningRate" }, paths);
    }

    [Fact]
    public void Parse_SeveralProblems_ReportsEveryOneWithItsPath()
    {
        var json = Sample();
        json["task"] = "ranking";
        json["features"]![1]!["type"] = "text";
        json["features"]![0]!["maxMissingRatio"] = 2;
        json["split"]!["train"] = 0.9;
        json["rollout"]!["strategy"] = "bluegreen";

        var paths = ProblemsOf(json).Select(p => p.Path).ToList();
        Assert.Contains("$.task", paths);
        Assert.Contains("$.features[1].type", paths);
        Assert.Contains("$.features[0].maxMissingRatio", paths);
        Assert.Contains("$.split", paths);
        Assert.Contains("$.rollout.strategy", paths);
    }

    [Fact]
    public void Parse_MetricUnknownForTask_IsRefused()
    {
        var json = Sample();
        json["evaluation"]!["gate"]!["thresholds"]![0]!["metric"] = "rmse";

        var problem = Assert.Single(ProblemsOf(json));
        Assert.Equal("$.evaluation.gate.thresholds[0].metric", problem.Path);
    }

    [Fact]
    public void Parse_CategoriesOnNumericFeature_IsRefused()
    {
        var json = Sample();
        json["features"]![0]!["categories"] = new JsonArray("a");

        Assert.Equal("$.features[0].categories", Assert.Single(ProblemsOf(json)).Path);
    }

    [Fact]
    public void Parse_UnknownProperty_IsRefusedWithItsPath()
    {
        var json = Sample();
        json["labels"] = "churned";

        var problem = Assert.Single(ProblemsOf(json));
        Assert.Equal("$.labels", problem.Path);
    }

    [Fact]
    public void Parse_WrongJsonType_NamesThePath()
    {
        var json = Sample();
        json["features"]![0]!["maxMissingRatio"] = "lots";

        var (spec, problems) = ModelSpecValidator.Parse(json.ToJsonString());

        Assert.Null(spec);
        Assert.Equal("$.features[0].maxMissingRatio", Assert.Single(problems).Path);
    }

    [Theory]
    [InlineData("multiclass", "macroAccuracy")]
    [InlineData("regression", "r2")]
    public void Parse_EveryTaskWithItsOwnMetrics_IsAccepted(string task, string metric)
    {
        var json = Sample();
        json["task"] = task;
        json["evaluation"]!["gate"]!["thresholds"] = new JsonArray(new JsonObject { ["metric"] = metric, ["min"] = 0.1 });

        Assert.Empty(ProblemsOf(json));

        // The binary sample's AUC means nothing for this task, and says so.
        json["evaluation"]!["gate"]!["thresholds"] = new JsonArray(new JsonObject { ["metric"] = "auc", ["min"] = 0.1 });
        var problem = Assert.Single(ProblemsOf(json));
        Assert.Contains($"for task {task}", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownServingPolicy_NamesThePathAndTheChoices()
    {
        var json = Sample();
        json["serving"] = new JsonObject { ["unknownFeatures"] = "drop", ["nonFinite"] = "pass" };

        var problem = Assert.Single(ProblemsOf(json));

        Assert.Equal("$.serving.unknownFeatures", problem.Path);
        Assert.Contains("expected one of: reject, ignore", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"strategy":"canary"}""", "$.rollout.steps", "at least one step")]
    [InlineData("""{"strategy":"canary","steps":[{"share":1.0,"minutes":5}]}""", "$.rollout.steps[0].share", "at most 1 (exclusive")]
    [InlineData("""{"strategy":"shadow","steps":[{"share":0.5,"minutes":5},{"share":0.5,"minutes":5}]}""", "$.rollout.steps", "exactly one step")]
    [InlineData("""{"strategy":"canary","steps":[{"share":0.2,"minutes":0}]}""", "$.rollout.steps[0].minutes", "more than 0 minutes")]
    [InlineData("""{"strategy":"canary","steps":[{"share":0.2,"minutes":5}],"quality":{"metric":"mae","maxDrop":0.1}}""", "$.rollout.quality.metric", "measured as accuracy")]
    [InlineData("""{"strategy":"direct","steps":[{"share":0.2,"minutes":5}]}""", "$.rollout.steps", "no steps")]
    public void Parse_BadRollout_NamesThePath(string rollout, string path, string message)
    {
        var json = Sample();
        json["rollout"] = JsonNode.Parse(rollout);

        var problem = Assert.Single(ProblemsOf(json));

        Assert.Equal(path, problem.Path);
        Assert.Contains(message, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadRetrainingScheduleOrDriftPolicy_NamesEachPath()
    {
        var json = Sample();
        json["retraining"] = new JsonObject { ["schedule"] = "every monday" };
        json["drift"] = JsonNode.Parse("""{"numericTests":["ks","t-test"],"thresholds":{"ks":1.5},"features":{"nope":{"psi":0.1}},"minSamples":0}""");

        var paths = ProblemsOf(json).Select(p => p.Path).Order().ToList();

        Assert.Equal(["$.drift.features.nope", "$.drift.minSamples", "$.drift.numericTests[1]", "$.drift.thresholds.ks", "$.retraining.schedule"], paths);
    }
}
