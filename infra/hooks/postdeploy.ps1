# azd postdeploy hook (Windows): the same as postdeploy.sh. Subscribes the Functions app's Event
# Grid blob triggers (OnNewDataset on datasets/, ScoreBatch on batch-input/) to the storage
# account's system topic, with the deployed app's blobs_extension system key. Then, with the GPU job
# (AZURE_GPU_TRAINER_JOB_NAME set), builds the deep trainer image (gpu-trainer/Dockerfile.gpu) in
# the registry and sets it on that job: azd cannot deploy a service to a job that may not exist.
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

if (-not $env:AZURE_GPU_TRAINER_JOB_NAME) {
    Write-Host "No GPU trainer job (GPU_TRAINING was not true at the last provision): the deep trainer image is not built."
    exit 0
}

# The registry builds the image (no local Docker) from the repository root, the context the
# Dockerfile expects; a new tag each time, so the job's next execution pulls this build.
Set-Location (Join-Path $PSScriptRoot '../..')
$image = "trainer-deep:azd-deploy-$([DateTime]::UtcNow.ToString('yyyyMMddHHmmss'))"
az acr build `
    --registry $env:AZURE_CONTAINER_REGISTRY_NAME `
    --image $image `
    --file gpu-trainer/Dockerfile.gpu `
    .
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
az containerapp job update `
    --resource-group $env:AZURE_RESOURCE_GROUP `
    --name $env:AZURE_GPU_TRAINER_JOB_NAME `
    --image "$($env:AZURE_CONTAINER_REGISTRY_ENDPOINT)/$image" `
    --output none
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
Write-Host "GPU trainer job $($env:AZURE_GPU_TRAINER_JOB_NAME) -> $($env:AZURE_CONTAINER_REGISTRY_ENDPOINT)/$image"
