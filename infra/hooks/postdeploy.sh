#!/bin/sh
# azd postdeploy hook: subscribes the Functions app's Event Grid blob triggers (OnNewDataset on
# datasets/, ScoreBatch on batch-input/) to the storage account's system topic. It runs after the
# code is deployed because the webhook needs the app's blobs_extension system key, which the host
# creates on start. Re-running it updates the subscriptions in place.
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
