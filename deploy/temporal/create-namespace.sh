#!/bin/sh
# The namespace tju's workers use, created once the server answers; nothing to do when it exists. It retries
# by itself, for the same reason as setup-schema.sh: the worker waits for it to complete successfully.
set -u
ATTEMPTS=${SETUP_ATTEMPTS:-60}
attempt=1
until temporal operator namespace describe -n "$TEMPORAL_NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 ||
  temporal operator namespace create -n "$TEMPORAL_NAMESPACE" --retention 30d --address "$TEMPORAL_ADDRESS"; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "namespace $TEMPORAL_NAMESPACE could not be created at $TEMPORAL_ADDRESS after $ATTEMPTS attempts" >&2
    exit 1
  fi
  echo "waiting for Temporal at $TEMPORAL_ADDRESS (attempt $attempt/$ATTEMPTS)"
  attempt=$((attempt + 1))
  sleep "${SETUP_RETRY_SECONDS:-2}"
done
echo "namespace $TEMPORAL_NAMESPACE is ready"
