#!/bin/sh
# azd postdeploy hook, in two steps.
# 1. Subscribes the Functions app's Event Grid blob triggers (OnNewDataset on datasets/, ScoreBatch
#    on batch-input/) to the storage account's system topic. It runs after the code is deployed
#    because the webhook needs the app's blobs_extension system key, which the host creates on
#    start. Re-running it updates the subscriptions in place.
# 2. With the GPU job (GPU_TRAINING true at the last provision, so AZURE_GPU_TRAINER_JOB_NAME names
#    it), builds the deep trainer image (gpu-trainer/Dockerfile.gpu) in the registry and sets it on
#    that job. azd cannot do this as a service: a service's resource must exist in every deployment,
#    and this job exists only in some.
set -eu

key=$(az functionapp keys list --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" --query "systemKeys.blobs_extension" --output tsv)
if [ -z "$key" ]; then
  echo "The Functions app has no blobs_extension key yet (the host has not started). Run 'azd hooks run postdeploy' in a minute." >&2
  exit 1
fi

subscribe() {
  function_name=$1
  container=$2
  az eventgrid system-topic event-subscription create \
    --resource-group "$AZURE_RESOURCE_GROUP" \
    --system-topic-name "$AZURE_EVENTGRID_SYSTEM_TOPIC_NAME" \
    --name "$(echo "$function_name" | tr '[:upper:]' '[:lower:]')" \
    --endpoint-type webhook \
    --endpoint "$AZURE_FUNCTION_APP_URL/runtime/webhooks/blobs?functionName=Host.Functions.$function_name&code=$key" \
    --included-event-types Microsoft.Storage.BlobCreated \
    --subject-begins-with "/blobServices/default/containers/$container/" \
    --event-delivery-schema eventgridschema \
    --output none
  echo "Event Grid: BlobCreated in $container/ -> $function_name"
}

subscribe OnNewDataset datasets
subscribe ScoreBatch batch-input

if [ -z "${AZURE_GPU_TRAINER_JOB_NAME:-}" ]; then
  echo "No GPU trainer job (GPU_TRAINING was not true at the last provision): the deep trainer image is not built."
  exit 0
fi

# The registry builds the image (no local Docker) from the repository root, the context the
# Dockerfile expects; a new tag each time, so the job's next execution pulls this build.
cd "$(dirname "$0")/../.."
image="trainer-deep:azd-deploy-$(date -u +%Y%m%d%H%M%S)"
az acr build \
  --registry "$AZURE_CONTAINER_REGISTRY_NAME" \
  --image "$image" \
  --file gpu-trainer/Dockerfile.gpu \
  .
az containerapp job update \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name "$AZURE_GPU_TRAINER_JOB_NAME" \
  --image "$AZURE_CONTAINER_REGISTRY_ENDPOINT/$image" \
  --output none
echo "GPU trainer job $AZURE_GPU_TRAINER_JOB_NAME -> $AZURE_CONTAINER_REGISTRY_ENDPOINT/$image"
