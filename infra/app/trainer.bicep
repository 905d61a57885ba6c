// The trainer: a Container Apps environment with a GPU workload profile, and the trainer image as
// a manually started Container Apps job. The Functions app starts one execution per training job
// (ContainerAppsJobDispatcher) with the job spec's blob path in TRAINER_JOB.
param environmentName string
param jobName string
param location string
param tags object
param identityId string
param identityClientId string
param identityPrincipalId string
param registryServer string
param logAnalyticsId string
param blobEndpoint string
param tableEndpoint string
param applicationInsightsConnectionString string

@description('GPU workload profile type for the trainer, for example Consumption-GPU-NC8as-T4 or Consumption-GPU-NC24-A100.')
param gpuProfileType string

@description('CPU cores and memory the trainer container asks for; must fit the GPU profile (a T4 profile has 8 cores and 56 GiB).')
param trainerCpu string = '8'
param trainerMemory string = '56Gi'

@description('Longest one training execution may run, in seconds.')
param replicaTimeoutSeconds int = 7200

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    // Logs go through Azure Monitor (the diagnostic setting below), not the workspace's shared key.
    appLogsConfiguration: { destination: 'azure-monitor' }
    workloadProfiles: [
      { name: 'Consumption', workloadProfileType: 'Consumption' }
      { name: 'gpu', workloadProfileType: gpuProfileType }
    ]
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

resource job 'Microsoft.App/jobs@2024-03-01' = {
  name: jobName
  location: location
  // azd deploys the trainer image to this job (service 'trainer' in azure.yaml).
  tags: union(tags, { 'azd-service-name': 'trainer' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'gpu'
    configuration: {
      triggerType: 'Manual'
      manualTriggerConfig: { parallelism: 1, replicaCompletionCount: 1 }
      // The pipeline restarts a lost job itself (Training:MaxJobStarts): Container Apps does not retry.
      replicaRetryLimit: 0
      replicaTimeout: replicaTimeoutSeconds
      registries: [
        { server: registryServer, identity: identityId }
      ]
    }
    template: {
      containers: [
        {
          name: 'trainer'
          // Replaced by `azd deploy` with the image built from gpu-trainer/Dockerfile.
          image: 'mcr.microsoft.com/k8se/quickstart-jobs:latest'
          resources: { cpu: json(trainerCpu), memory: trainerMemory }
          env: [
            { name: 'Storage__BlobServiceUri', value: blobEndpoint }
            { name: 'Storage__TableServiceUri', value: tableEndpoint }
            { name: 'Storage__ManagedIdentityClientId', value: identityClientId }
            { name: 'AZURE_CLIENT_ID', value: identityClientId }
            { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
            { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD;ClientId=${identityClientId}' }
          ]
        }
      ]
    }
  }
}

// Least privilege for the Functions app on the job: read it, start and stop executions, read their status.
resource jobOperator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'trainer-job-operator')
  properties: {
    roleName: 'Trainer job operator (${resourceGroup().name})'
    description: 'Start, stop and read executions of the trainer Container Apps job.'
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
  name: guid(job.id, identityPrincipalId, jobOperator.id)
  scope: job
  properties: {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: jobOperator.id
  }
}

output jobName string = job.name
output environmentName string = environment.name
