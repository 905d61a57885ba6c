// Azure infrastructure for the serverless ML lifecycle, deployed by `azd up`: the resource group;
// two user-assigned identities, the app's and the trainer's (least privilege each: docs/security.md
// lists every role assignment); storage without shared keys (the containers and
// tables of the storage layout); the Functions app on the Flex Consumption plan; Event Grid (the
// storage account's system topic, and optionally a custom topic for lifecycle events); a container
// registry, a Container Apps environment with the CPU trainer job on its Consumption profile (and,
// when gpuTraining is set, a GPU workload profile with the GPU trainer job); Log Analytics,
// Application Insights (Entra-only ingestion) and the workbooks; least-privilege role assignments;
// with dashboardSignIn, Microsoft Entra sign-in for the dashboard. No secret is written to any setting.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to name and tag every resource.')
param environmentName string

@minLength(1)
@description('Azure region for all resources. It must offer the Flex Consumption plan, and the GPU workload profile when gpuTraining is set (see the README).')
param location string

@description('CPU cores of the CPU trainer job (LightGBM, FastTree, SDCA) on the Consumption profile: 0.25 to 4 in steps of 0.25.')
@allowed(['0.25', '0.5', '0.75', '1', '1.25', '1.5', '1.75', '2', '2.25', '2.5', '2.75', '3', '3.25', '3.5', '3.75', '4'])
param trainerCpu string = '2'

@description('Memory of the CPU trainer job: twice its cores in GiB (2 cores: 4Gi), the only pairs the Consumption profile allows.')
param trainerMemory string = '4Gi'

@description('Add a GPU workload profile and the GPU trainer job, which trains the mlp algorithm. Off by default: the other algorithms use only the CPU.')
param gpuTraining bool = false

@description('GPU workload profile of the GPU trainer job: Consumption-GPU-NC8as-T4 (default) or Consumption-GPU-NC24-A100.')
@allowed(['Consumption-GPU-NC8as-T4', 'Consumption-GPU-NC24-A100'])
param gpuProfileType string = 'Consumption-GPU-NC8as-T4'

@description('CPU cores of the GPU trainer job; must fit the GPU profile (T4: up to 8, A100: up to 24).')
param gpuTrainerCpu string = '8'

@description('Memory of the GPU trainer job; must fit the GPU profile (T4: up to 56Gi, A100: up to 220Gi).')
param gpuTrainerMemory string = '56Gi'

@description('Six-field CRON of the drift monitor timer (MonitoringSchedule); every 15 minutes by default.')
param monitoringSchedule string = '0 */15 * * * *'

@description('Create an Event Grid custom topic that receives lifecycle CloudEvents (drift reports, retraining triggers).')
param createEventsTopic bool = false

@description('Require Microsoft Entra sign-in (App Service Authentication) for the dashboard at /api/ui/; every other route keeps its function keys. Needs dashboardClientId.')
param dashboardSignIn bool = false

@description('Application (client) ID of the Entra app registration people sign in to the dashboard with (see the README). Required with dashboardSignIn.')
param dashboardClientId string = ''

@description('Tenant of that app registration; empty means the tenant of this deployment.')
param dashboardTenantId string = ''

@description('The deploying person or pipeline (azd sets AZURE_PRINCIPAL_ID): gets data roles on datasets/ and batch-input/ (and reads batch-output/) so uploads work as the README shows. Empty: none.')
param principalId string = ''

@description('What principalId is (azd sets AZURE_PRINCIPAL_TYPE): User, or ServicePrincipal in a pipeline.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param principalType string = 'User'

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var deploymentContainer = 'app-package-${take(resourceToken, 7)}'

// The Consumption profile takes a container's cores and memory only in these pairs (Azure Container
// Apps, "Containers": allocations). Checked here, before anything deploys, so a wrong pair fails
// with both values named instead of a Container Apps error halfway through the deployment.
var consumptionMemory = {
  '0.25': '0.5Gi'
  '0.5': '1Gi'
  '0.75': '1.5Gi'
  '1': '2Gi'
  '1.25': '2.5Gi'
  '1.5': '3Gi'
  '1.75': '3.5Gi'
  '2': '4Gi'
  '2.25': '4.5Gi'
  '2.5': '5Gi'
  '2.75': '5.5Gi'
  '3': '6Gi'
  '3.25': '6.5Gi'
  '3.5': '7Gi'
  '3.75': '7.5Gi'
  '4': '8Gi'
}
var checkedTrainerMemory = consumptionMemory[trainerCpu] == trainerMemory
  ? trainerMemory
  : fail('trainerMemory (AZURE_TRAINER_MEMORY) is ${trainerMemory}; with trainerCpu ${trainerCpu} the Consumption profile takes ${consumptionMemory[trainerCpu]}')

// Bicep cannot create the Entra app registration (that needs the Microsoft Graph extension and
// directory rights the deploying account may not have), so it is made beforehand and named here.
// Checked before anything deploys: without it, App Service Authentication would be switched on with
// no client and every sign-in would fail.
var checkedDashboardClientId = !dashboardSignIn || !empty(trim(dashboardClientId))
  ? dashboardClientId
  : fail('dashboardSignIn (DASHBOARD_SIGN_IN) is true but dashboardClientId is empty: register an Entra app for the dashboard and run azd env set DASHBOARD_CLIENT_ID <its application (client) ID> (see the README, "The dashboard in Azure")')

// The issuer Easy Auth sends people to and checks tokens against: the v2.0 endpoint of the app
// registration's tenant. A tenant-specific issuer makes Easy Auth check that tokens come from that
// tenant (any other issuer counts as multi-tenant and is not checked).
var dashboardIssuer = '${environment().authentication.loginEndpoint}${empty(dashboardTenantId) ? tenant().tenantId : dashboardTenantId}/v2.0'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

// The app's identity: the Functions app (host storage, task hub, registry, starting trainer jobs).
module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

// The trainer's identity: the trainer jobs parse users' files, so a compromised trainer must reach
// no more than its jobs' files in runs/ (not the app package, the task hub or the registry tables).
module trainerIdentity 'app/identity.bicep' = {
  name: 'trainer-identity'
  scope: rg
  params: {
    name: 'id-trainer-${resourceToken}'
    location: location
    tags: tags
  }
}

// The identity App Service Authentication signs in to the app registration with, in place of a
// client secret (a federated identity credential on the registration trusts it). Its own identity,
// not the one everything runs as: the docs ask that it be assigned only to this app, since whatever
// holds it can act as the registration, and the trainer jobs run as the shared one.
module signInIdentity 'app/identity.bicep' = if (dashboardSignIn) {
  name: 'sign-in-identity'
  scope: rg
  params: {
    name: 'id-signin-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    trainerPrincipalId: trainerIdentity.outputs.principalId
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
    deploymentContainer: deploymentContainer
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    principalIds: [identity.outputs.principalId, trainerIdentity.outputs.principalId]
  }
}

module registry 'app/registry.bicep' = {
  name: 'registry'
  scope: rg
  params: {
    name: 'cr${resourceToken}'
    location: location
    tags: tags
    principalId: trainerIdentity.outputs.principalId
  }
}

module trainer 'app/trainer.bicep' = {
  name: 'trainer'
  scope: rg
  params: {
    environmentName: 'cae-${resourceToken}'
    jobName: 'trainer-${take(resourceToken, 12)}'
    gpuJobName: 'trainer-gpu-${take(resourceToken, 12)}'
    location: location
    tags: tags
    identityId: trainerIdentity.outputs.id
    identityClientId: trainerIdentity.outputs.clientId
    operatorPrincipalId: identity.outputs.principalId
    registryServer: registry.outputs.loginServer
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    blobEndpoint: storage.outputs.blobEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    trainerCpu: trainerCpu
    trainerMemory: checkedTrainerMemory
    gpuTraining: gpuTraining
    gpuProfileType: gpuProfileType
    gpuTrainerCpu: gpuTrainerCpu
    gpuTrainerMemory: gpuTrainerMemory
  }
}

module events 'app/events.bicep' = {
  name: 'events'
  scope: rg
  params: {
    systemTopicName: 'evgst-${resourceToken}'
    customTopicName: 'evgt-${resourceToken}'
    location: location
    tags: tags
    storageAccountId: storage.outputs.id
    principalId: identity.outputs.principalId
    createCustomTopic: createEventsTopic
  }
}

module functions 'app/functions.bicep' = {
  name: 'functions'
  scope: rg
  params: {
    planName: 'plan-${resourceToken}'
    appName: 'func-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainer: deploymentContainer
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    trainerJobName: trainer.outputs.jobName
    trainerPrincipalId: trainerIdentity.outputs.principalId
    gpuTrainerJobName: trainer.outputs.gpuJobName
    eventsTopicEndpoint: events.outputs.customTopicEndpoint
    monitoringSchedule: monitoringSchedule
    dashboardClientId: dashboardSignIn ? trim(checkedDashboardClientId) : ''
    dashboardIssuer: dashboardIssuer
    signInIdentityId: signInIdentity.?outputs.id ?? ''
    signInIdentityClientId: signInIdentity.?outputs.clientId ?? ''
  }
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_TRAINER_IDENTITY_CLIENT_ID string = trainerIdentity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.name
output AZURE_FUNCTION_APP_NAME string = functions.outputs.name
output AZURE_FUNCTION_APP_URL string = 'https://${functions.outputs.hostName}'
output AZURE_TRAINER_JOB_NAME string = trainer.outputs.jobName
// Empty without the GPU job; the postdeploy hook deploys the deep trainer image only to a job named here.
output AZURE_GPU_TRAINER_JOB_NAME string = trainer.outputs.gpuJobName
output AZURE_EVENTGRID_SYSTEM_TOPIC_NAME string = events.outputs.systemTopicName
output AZURE_EVENTS_TOPIC_ENDPOINT string = events.outputs.customTopicEndpoint
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
// The subject of the federated identity credential the dashboard's app registration needs (README,
// "The dashboard in Azure"); empty without dashboardSignIn.
output AZURE_DASHBOARD_SIGN_IN_PRINCIPAL_ID string = signInIdentity.?outputs.principalId ?? ''
