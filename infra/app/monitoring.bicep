param logAnalyticsName string
param applicationInsightsName string
param location string
param tags object

@description('Principals that send telemetry with Entra ID: the app and the trainer identities.')
param principalIds array

var metricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

// The workbooks: their queries use exactly the metric names and dimensions the code emits (a test checks).
var workbooks = [
  { key: 'model-health', title: 'Model health', content: loadTextContent('../workbooks/model-health.workbook.json') }
  { key: 'drift', title: 'Drift per feature', content: loadTextContent('../workbooks/drift.workbook.json') }
  { key: 'pipeline-runs', title: 'Pipeline runs', content: loadTextContent('../workbooks/pipeline-runs.workbook.json') }
  { key: 'registry', title: 'Registry timeline', content: loadTextContent('../workbooks/registry.workbook.json') }
]

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    retentionInDays: 30
    sku: { name: 'PerGB2018' }
    // Queries and ingestion with Entra ID only: the workspace's shared keys are off.
    features: { disableLocalAuth: true }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // Telemetry is sent with Entra ID (managed identity), not the instrumentation key alone.
    DisableLocalAuth: true
  }
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in principalIds: {
    name: guid(applicationInsights.id, principalId, metricsPublisher)
    scope: applicationInsights
    properties: {
      principalId: principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', metricsPublisher)
    }
  }
]

resource workbookResources 'Microsoft.Insights/workbooks@2023-06-01' = [
  for workbook in workbooks: {
    name: guid(resourceGroup().id, applicationInsightsName, workbook.key)
    location: location
    tags: tags
    kind: 'shared'
    properties: {
      displayName: '${workbook.title} (${applicationInsightsName})'
      category: 'workbook'
      sourceId: applicationInsights.id
      serializedData: workbook.content
    }
  }
]

output applicationInsightsName string = applicationInsights.name
output connectionString string = applicationInsights.properties.ConnectionString
output logAnalyticsName string = logAnalytics.name
output logAnalyticsId string = logAnalytics.id
output applicationInsightsId string = applicationInsights.id
