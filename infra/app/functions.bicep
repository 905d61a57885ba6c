// The Functions app on the Flex Consumption plan: runs as the user-assigned identity, reaches
// storage, the trainer jobs, Event Grid and Application Insights with it, and holds no secret in
// its settings.
param planName string
param appName string
param location string
param tags object
param identityId string
param identityClientId string
param blobEndpoint string
param queueEndpoint string
param tableEndpoint string
param deploymentContainer string
param applicationInsightsConnectionString string
param trainerJobName string

@description('The GPU trainer job (the mlp algorithm); empty when the deployment has none.')
param gpuTrainerJobName string

param eventsTopicEndpoint string

@description('Six-field CRON of the drift monitor (MonitoringSchedule).')
param monitoringSchedule string

@description('Most instances the app scales out to.')
param maximumInstanceCount int = 40

@description('Memory per instance: 512, 2048 or 4096 MB.')
param instanceMemoryMB int = 2048

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainer}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: maximumInstanceCount, instanceMemoryMB: instanceMemoryMB }
      runtime: { name: 'dotnet-isolated', version: '10.0' }
    }
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: union(
      {
        // The host's own storage (Durable task hub, blob triggers): identity-based, no connection string.
        AzureWebJobsStorage__blobServiceUri: blobEndpoint
        AzureWebJobsStorage__queueServiceUri: queueEndpoint
        AzureWebJobsStorage__tableServiceUri: tableEndpoint
        AzureWebJobsStorage__credential: 'managedidentity'
        AzureWebJobsStorage__clientId: identityClientId
        AZURE_CLIENT_ID: identityClientId
        APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
        Storage__BlobServiceUri: blobEndpoint
        Storage__TableServiceUri: tableEndpoint
        Storage__ManagedIdentityClientId: identityClientId
        Training__Dispatcher: 'container-apps-job'
        Training__ContainerAppsJob__SubscriptionId: subscription().subscriptionId
        Training__ContainerAppsJob__ResourceGroup: resourceGroup().name
        Training__ContainerAppsJob__JobName: trainerJobName
        Training__ContainerAppsJob__ManagedIdentityClientId: identityClientId
        MonitoringSchedule: monitoringSchedule
      },
      // Without a GPU job the setting is absent, and an mlp run fails saying how to deploy one.
      empty(gpuTrainerJobName) ? {} : { Training__ContainerAppsJob__GpuJobName: gpuTrainerJobName },
      empty(eventsTopicEndpoint)
        ? {}
        : {
            Events__TopicEndpoint: eventsTopicEndpoint
            Events__ManagedIdentityClientId: identityClientId
          }
    )
  }
}

// Deployments authenticate with Entra ID: basic (publishing profile) credentials are off.
resource scm 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: { allow: false }
}

resource ftp 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

output name string = app.name
output hostName string = app.properties.defaultHostName
