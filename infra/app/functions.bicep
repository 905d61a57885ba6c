// The Functions app on the Flex Consumption plan: runs as the user-assigned identity, reaches
// storage, the trainer jobs, Event Grid and Application Insights with it, and holds no secret in
// its settings. With a dashboard client ID, App Service Authentication asks people for Microsoft
// Entra sign-in at the dashboard and leaves every other route to its function keys.
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

@description('Object ID of the trainer identity: the only caller the completion callback takes.')
param trainerPrincipalId string

@description('The GPU trainer job (the mlp algorithm); empty when the deployment has none.')
param gpuTrainerJobName string

param eventsTopicEndpoint string

@description('Six-field CRON of the drift monitor (MonitoringSchedule).')
param monitoringSchedule string

@description('Most instances the app scales out to.')
param maximumInstanceCount int = 40

@description('Memory per instance: 512, 2048 or 4096 MB.')
param instanceMemoryMB int = 2048

@description('Application (client) ID of the dashboard\'s Entra app registration; empty: no App Service Authentication.')
param dashboardClientId string = ''

@description('OpenID issuer of that registration\'s tenant (https://login.microsoftonline.com/<tenant>/v2.0).')
param dashboardIssuer string = ''

@description('The user-assigned identity that stands in for the registration\'s client secret; empty without sign-in.')
param signInIdentityId string = ''

@description('Client ID of that identity.')
param signInIdentityClientId string = ''

var dashboardSignIn = !empty(dashboardClientId)

// Easy Auth signs in to the app registration with a client assertion from this identity instead of
// a client secret when clientSecretSettingName names this app setting and the setting holds the
// identity's client ID ("Use a managed identity instead of a secret", Configure Microsoft Entra
// sign-in for App Service). The setting holds no secret; the registration trusts the identity
// through a federated identity credential made with it (see the README).
var ficSettingName = 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'

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
    // The sign-in identity only when there is sign-in; the app runs as identityId either way (its
    // settings name that identity's client ID wherever a credential is made).
    userAssignedIdentities: union({ '${identityId}': {} }, dashboardSignIn ? { '${signInIdentityId}': {} } : {})
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
          },
      { Training__TrainerPrincipalId: trainerPrincipalId },
      // With App Service Authentication the trainer reports its end at once, with a token of its
      // managed identity for the app registration (no key in the job spec); without it, runs rely on
      // the status checks (Training:StatusCheckInterval).
      dashboardSignIn
        ? {
            '${ficSettingName}': signInIdentityClientId
            Training__CallbackBaseUrl: 'https://${app.properties.defaultHostName}'
            Training__CallbackAudience: 'api://${dashboardClientId}'
          }
        : {}
    )
  }
}

// App Service Authentication ("Easy Auth"), only with a dashboard client ID. It signs people in
// (a browser session) and accepts bearer tokens for the app registration (scripts, pipelines), and
// passes the identity to the worker in X-MS-CLIENT-PRINCIPAL, a header no client can set while it is
// on. It requires sign-in nowhere (AllowAnonymous): the worker decides. Reading and administration
// routes need an app role of the registration, and the trainer's callback the trainer identity's
// token (CallerMiddleware); scoring routes, the Event Grid webhook and the host's own paths keep their
// function or host keys (the Functions host checks those, whatever Easy Auth saw); the dashboard sends a person without a
// session to /.auth/login/aad. Without sign-in nothing is deployed here, so Authentication set up in
// the portal is kept; for the same reason, turning dashboardSignIn off again does not turn it off
// (the README says how).
resource auth 'Microsoft.Web/sites/config@2024-04-01' = if (dashboardSignIn) {
  parent: app
  name: 'authsettingsV2'
  // After the app settings: the setting that ficSettingName names must exist, and two config
  // writes to one site at once can conflict.
  dependsOn: [app::settings]
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
      redirectToProvider: 'azureactivedirectory'
    }
    httpSettings: { requireHttps: true }
    // The dashboard needs only the session cookie; a token store would keep people's tokens for no use.
    login: { tokenStore: { enabled: false } }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: dashboardClientId
          openIdIssuer: dashboardIssuer
          clientSecretSettingName: ficSettingName
        }
        // Bearer tokens for the registration, by its client ID or its Application ID URI.
        validation: { allowedAudiences: [dashboardClientId, 'api://${dashboardClientId}'] }
      }
    }
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
