using Serverless.Trainer;

// The CPU trainer: the ML.NET algorithms (lightgbm, fasttree, sdca). Exit codes in TrainerProgram.
return await TrainerProgram.RunAsync(args, [new MlNetTrainer()], "serverless-lifecycle-trainer");
