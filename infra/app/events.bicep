// Event Grid: the system topic of the storage account, whose BlobCreated events drive the blob
// triggers (datasets/ starts a run, batch-input/ scores a file). The subscriptions to the Functions
// app's blob-trigger webhook need the app's blobs_extension system key, which exists only after the
// code is deployed: infra/hooks/postdeploy.sh creates them. Optionally, a custom topic the app
// publishes lifecycle CloudEvents to (drift reports, retraining triggers).
param systemTopicName string
param customTopicName string
param location string
param tags object
param storageAccountId string
param principalId string

@description('Create the custom topic for lifecycle notifications.')
param createCustomTopic bool

var eventGridDataSender = 'd5a91429-5739-47e2-a06b-3470a27159e7'

resource systemTopic 'Microsoft.EventGrid/systemTopics@2024-06-01-preview' = {
  name: systemTopicName
  location: location
  tags: tags
  properties: {
    source: storageAccountId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource customTopic 'Microsoft.EventGrid/topics@2024-06-01-preview' = if (createCustomTopic) {
  name: customTopicName
  location: location
  tags: tags
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    // Publishers authenticate with Entra ID only: no access keys.
    disableLocalAuth: true
  }
}

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (createCustomTopic) {
  name: guid(resourceGroup().id, customTopicName, principalId, eventGridDataSender)
  scope: customTopic
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventGridDataSender)
  }
}

output systemTopicName string = systemTopic.name
output customTopicEndpoint string = createCustomTopic ? customTopic!.properties.endpoint : ''
