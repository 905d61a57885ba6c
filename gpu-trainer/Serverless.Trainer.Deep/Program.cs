using Serverless.Trainer;
using Serverless.Trainer.Deep;

// The deep trainer: the mlp algorithm with TorchSharp, the GPU job's program. Exit codes in TrainerProgram.
return await TrainerProgram.RunAsync(args, [new MlpTrainer()], "serverless-lifecycle-deep-trainer");
