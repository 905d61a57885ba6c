# azd postdeploy hook (Windows): the same as postdeploy.sh. Subscribes the Functions app's Event
# Grid blob triggers (OnNewDataset on datasets/, ScoreBatch on batch-input/) to the storage
# account's system topic, with the deployed app's blobs_extension system key.
$ErrorActionPreference = 'Stop'

$key = az functionapp keys list --resource-group $env:AZURE_RESOURCE_GROUP --name $env:AZURE_FUNCTION_APP_NAME --query "systemKeys.blobs_extension" --output tsv
if (-not $key) {
    Write-Error "The Functions app has no blobs_extension key yet (the host has not started). Run 'azd hooks run postdeploy' in a minute."
}

foreach ($subscription in @(@('OnNewDataset', 'datasets'), @('ScoreBatch', 'batch-input'))) {
    $function = $subscription[0]
    $container = $subscription[1]
    az eventgrid system-topic event-subscription create `
        --resource-group $env:AZURE_RESOURCE_GROUP `
        --system-topic-name $env:AZURE_EVENTGRID_SYSTEM_TOPIC_NAME `
        --name $function.ToLowerInvariant() `
        --endpoint-type webhook `
        --endpoint "$($env:AZURE_FUNCTION_APP_URL)/runtime/webhooks/blobs?functionName=Host.Functions.$function&code=$key" `
        --included-event-types Microsoft.Storage.BlobCreated `
        --subject-begins-with "/blobServices/default/containers/$container/" `
        --event-delivery-schema eventgridschema `
        --output none
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    Write-Host "Event Grid: BlobCreated in $container/ -> $function"
}
