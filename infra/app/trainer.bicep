// The trainers: a Container Apps environment and the trainer images as manually started Container
// Apps jobs. The CPU job (gpu-trainer/Dockerfile: LightGBM, FastTree, SDCA) always exists, on the
// Consumption profile. The GPU job (gpu-trainer/Dockerfile.gpu: mlp) and its GPU workload profile
// exist only when gpuTraining is set, so a deployment that trains no deep model holds no GPU
// profile. The Functions app starts one execution per training job, on the job its algorithm is
// placed on (ContainerAppsJobDispatcher), with the job spec's blob path in TRAINER_JOB.
param environmentName string
param jobName string
param gpuJobName string
param location string
param tags object
@description('The trainer identity the jobs run as and pull their images with.')
param identityId string
param identityClientId string

@description('The app identity, which starts, reads and stops the jobs\' executions.')
param operatorPrincipalId string
param registryServer string
param logAnalyticsId string
param blobEndpoint string
param tableEndpoint string
param applicationInsightsConnectionString string

@description('CPU cores and memory of the CPU job; a pair the Consumption profile allows (main.bicep checks it).')
param trainerCpu string
param trainerMemory string

@description('Add the GPU workload profile and the GPU job.')
param gpuTraining bool

@description('GPU workload profile type of the GPU job, for example Consumption-GPU-NC8as-T4 or Consumption-GPU-NC24-A100.')
param gpuProfileType string

@description('CPU cores and memory of the GPU job; must fit the GPU profile (a T4 profile has 8 cores and 56 GiB).')
param gpuTrainerCpu string
param gpuTrainerMemory string

@description('Longest one training execution may run, in seconds.')
param replicaTimeoutSeconds int = 7200

// Serverless GPU profiles, unlike dedicated ones, can be added to an existing environment, so
// turning gpuTraining on later only adds this profile.
var gpuProfile = 'gpu'

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    // Logs go through Azure Monitor (the diagnostic setting below), not the workspace's shared key.
    appLogsConfiguration: { destination: 'azure-monitor' }
    workloadProfiles: concat(
      [{ name: 'Consumption', workloadProfileType: 'Consumption' }],
      gpuTraining ? [{ name: gpuProfile, workloadProfileType: gpuProfileType }] : []
    )
  }
}

resource environmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: environment
  properties: {
    workspaceId: logAnalyticsId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

// What both jobs share: a manual trigger, one replica per execution, pulls with the identity.
var jobConfiguration = {
  triggerType: 'Manual'
  manualTriggerConfig: { parallelism: 1, replicaCompletionCount: 1 }
  // The pipeline restarts a lost job itself (Training:MaxJobStarts): Container Apps does not retry.
  replicaRetryLimit: 0
  replicaTimeout: replicaTimeoutSeconds
  registries: [
    { server: registryServer, identity: identityId }
  ]
}

// The deployment replaces the image (azd deploy for the CPU job, the postdeploy hook for the GPU job).
var placeholderImage = 'mcr.microsoft.com/k8se/quickstart-jobs:latest'

var trainerEnvironment = [
  { name: 'Storage__BlobServiceUri', value: blobEndpoint }
  { name: 'Storage__TableServiceUri', value: tableEndpoint }
  { name: 'Storage__ManagedIdentityClientId', value: identityClientId }
  { name: 'AZURE_CLIENT_ID', value: identityClientId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD;ClientId=${identityClientId}' }
]

resource job 'Microsoft.App/jobs@2024-03-01' = {
  name: jobName
  location: location
  // azd deploys the CPU trainer image (gpu-trainer/Dockerfile) to this job (service 'trainer' in azure.yaml).
  tags: union(tags, { 'azd-service-name': 'trainer' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: jobConfiguration
    template: {
      containers: [
        {
          name: 'trainer'
          image: placeholderImage
          resources: { cpu: json(trainerCpu), memory: trainerMemory }
          env: trainerEnvironment
        }
      ]
    }
  }
}

// No azd-service-name tag: azd cannot deploy a service to a job that may not exist, so the
// postdeploy hook builds gpu-trainer/Dockerfile.gpu and sets this job's image.
resource gpuJob 'Microsoft.App/jobs@2024-03-01' = if (gpuTraining) {
  name: gpuJobName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: gpuProfile
    configuration: jobConfiguration
    template: {
      containers: [
        {
          name: 'trainer'
          image: placeholderImage
          resources: { cpu: json(gpuTrainerCpu), memory: gpuTrainerMemory }
          env: trainerEnvironment
        }
      ]
    }
  }
}

// Least privilege for the Functions app on the jobs: read them, start and stop executions, read their status.
resource jobOperator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'trainer-job-operator')
  properties: {
    roleName: 'Trainer job operator (${resourceGroup().name})'
    description: 'Start, stop and read executions of the trainer Container Apps jobs.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: [
          'Microsoft.App/jobs/read'
          'Microsoft.App/jobs/start/action'
          'Microsoft.App/jobs/stop/action'
          'Microsoft.App/jobs/executions/read'
        ]
        notActions: []
      }
    ]
  }
}

resource jobOperatorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(job.id, operatorPrincipalId, jobOperator.id)
  scope: job
  properties: {
    principalId: operatorPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: jobOperator.id
  }
}

resource gpuJobOperatorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (gpuTraining) {
  name: guid(gpuJob.id, operatorPrincipalId, jobOperator.id)
  scope: gpuJob
  properties: {
    principalId: operatorPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: jobOperator.id
  }
}

output jobName string = job.name
// Empty when there is no GPU job: the app then has no GpuJobName and says how to add one.
output gpuJobName string = gpuTraining ? gpuJob.name : ''
output environmentName string = environment.name
