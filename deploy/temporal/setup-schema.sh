#!/bin/sh
# Temporal's persistence and visibility databases on tju's PostgreSQL, created if missing and upgraded to
# the schema of the admin-tools image's version (pin it to the server's). Every step is idempotent, so this
# runs on every `up`. It retries by itself: compose does not restart a one-shot that others wait on with
# service_completed_successfully (they fail on its first non-zero exit), so it must not exit early.
set -u
ATTEMPTS=${SETUP_ATTEMPTS:-30}
sql() { temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" --pw "$SQL_PASSWORD" "$@"; }
setup() {
  for db in temporal temporal_visibility; do
    kind=$([ "$db" = temporal ] && echo temporal || echo visibility)
    sql --db "$db" create &&
      sql --db "$db" setup-schema -v 0.0 &&
      sql --db "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$kind/versioned" || return 1
  done
}
attempt=1
until setup; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "Temporal's schema could not be set up after $ATTEMPTS attempts" >&2
    exit 1
  fi
  echo "Temporal's schema set-up failed (attempt $attempt/$ATTEMPTS); trying again in ${SETUP_RETRY_SECONDS:-5}s"
  attempt=$((attempt + 1))
  sleep "${SETUP_RETRY_SECONDS:-5}"
done
echo "Temporal schema is up to date"
