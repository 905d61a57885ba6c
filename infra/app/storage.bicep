@description('Storage account name (3-24 lowercase letters and digits).')
param name string
param location string
param tags object

@description('The app identity: the Functions host, the Durable task hub and the product use the whole account.')
param appPrincipalId string

@description('The trainer identity: reads its jobs\' inputs and writes their outputs in runs/, nothing else.')
param trainerPrincipalId string

@description('The deploying person or pipeline (azd\'s AZURE_PRINCIPAL_ID): uploads datasets and batch files, reads batch results. Empty: none.')
param deployerPrincipalId string = ''

@description('User, Group or ServicePrincipal: what deployerPrincipalId is.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param deployerPrincipalType string = 'User'

@description('Days a deleted or overwritten blob in models/ stays recoverable (soft delete and blob versions).')
@minValue(1)
@maxValue(365)
param modelsRetentionDays int = 30

@description('Container the Flex Consumption plan deploys the Functions app package from.')
param deploymentContainer string

// The containers and tables of the storage layout: exactly StorageNames in the code (a test checks).
var containers = ['datasets', 'runs', 'models', 'predictions', 'batch-input', 'batch-output', 'monitoring']
var tables = ['ModelSpecs', 'ModelVersions', 'ModelAliases', 'AuditEvents', 'Datasets', 'Feedback', 'Rollouts', 'MonitoringReports', 'RetrainingTriggers', 'ScoringKeys']

// Built-in data roles (never keys). The app's are account-wide because the Functions host needs Blob
// Data Owner on its AzureWebJobsStorage (it creates containers for coordination and keys), and the
// Durable task hub creates its own queues, tables and containers at run time, whose names no
// narrower scope could name in advance. docs/security.md lists every assignment and why.
var roles = {
  blobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  queueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}
var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var blobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
  }
}

// Versions and soft delete make a bad write to models/ (a card, an ONNX file) recoverable. Versioning
// is a property of the whole blob service, so the lifecycle policy below keeps old versions for
// modelsRetentionDays in models/ and deletes them after a day everywhere else.
resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    isVersioningEnabled: true
    deleteRetentionPolicy: { enabled: true, days: modelsRetentionDays }
    containerDeleteRetentionPolicy: { enabled: true, days: modelsRetentionDays }
  }
}

resource versionRetention 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'models-versions'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'], prefixMatch: ['models/'] }
            actions: { version: { delete: { daysAfterCreationGreaterThan: modelsRetentionDays } } }
          }
        }
        {
          name: 'other-versions'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'], prefixMatch: [for c in concat(filter(containers, c => c != 'models'), [deploymentContainer]): '${c}/'] }
            actions: { version: { delete: { daysAfterCreationGreaterThan: 1 } } }
          }
        }
      ]
    }
  }
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in concat(containers, [deploymentContainer]): {
    parent: blobService
    name: container
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource storageTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for table in tables: {
    parent: tableService
    name: table
  }
]

resource roleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in items(roles): {
    name: guid(account.id, appPrincipalId, role.value)
    scope: account
    properties: {
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.value)
    }
  }
]

resource runsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: 'runs'
  dependsOn: [blobContainers]
}

// The trainer reads and writes blobs, no more: no delete, no list, no container, queue or table.
resource trainerBlobRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'trainer-job-data')
  properties: {
    roleName: 'Trainer job data (${resourceGroup().name})'
    description: 'Read a training job\'s inputs and write its outputs in the runs container.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'
        ]
        notDataActions: []
      }
    ]
  }
}

// Scoped to runs/, and within it (an ABAC condition on the blob path): reads of a job's files
// ({run}/jobs/{job}/job.json) and of the run's split ({run}/split/*.csv), writes of a job's files
// (result.json, model.onnx, progress.json) only. Listing has no path, so it is refused too.
var trainerCondition = '((!(ActionMatches{\'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read\'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringLike \'*/jobs/*\' OR @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringLike \'*/split/*\')) AND ((!(ActionMatches{\'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write\'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringLike \'*/jobs/*\'))'

resource trainerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runsContainer.id, trainerPrincipalId, trainerBlobRole.id)
  scope: runsContainer
  properties: {
    principalId: trainerPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: trainerBlobRole.id
    condition: trainerCondition
    conditionVersion: '2.0'
  }
}

// The deploying person uploads to datasets/ and batch-input/ (the README's Azure CLI commands),
// reads batch-output/, and issues scoring keys into the ScoringKeys table (the scoring-keys command,
// the way in for a deployment without sign-in); nothing else, and no queue or other table.
var deployerAccess = [
  { container: 'datasets', role: blobDataContributor }
  { container: 'batch-input', role: blobDataContributor }
  { container: 'batch-output', role: blobDataReader }
]

resource deployerContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = [
  for access in deployerAccess: {
    parent: blobService
    name: access.container
  }
]

resource deployerAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (access, i) in deployerAccess: if (!empty(deployerPrincipalId)) {
    name: guid(deployerContainers[i].id, deployerPrincipalId, access.role)
    scope: deployerContainers[i]
    properties: {
      principalId: deployerPrincipalId
      principalType: deployerPrincipalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', access.role)
    }
    dependsOn: [blobContainers]
  }
]

resource scoringKeysTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' existing = {
  parent: tableService
  name: 'ScoringKeys'
}

resource deployerScoringKeys 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(scoringKeysTable.id, deployerPrincipalId, roles.tableDataContributor)
  scope: scoringKeysTable
  properties: {
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataContributor)
  }
  dependsOn: [storageTables]
}

output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
output name string = account.name
