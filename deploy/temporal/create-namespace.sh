#!/bin/sh
# The namespace tju's workers use, created once the server answers; nothing to do when it exists.
set -eu
until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do
  echo "waiting for Temporal at $TEMPORAL_ADDRESS"
  sleep 2
done
temporal operator namespace describe -n "$TEMPORAL_NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 ||
  temporal operator namespace create -n "$TEMPORAL_NAMESPACE" --retention 30d --address "$TEMPORAL_ADDRESS"
echo "namespace $TEMPORAL_NAMESPACE is ready"
