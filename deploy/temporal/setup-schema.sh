#!/bin/sh
# Temporal's persistence and visibility databases on tju's PostgreSQL, created if missing and upgraded to
# the schema of the admin-tools image's version (pin it to the server's). Idempotent: runs on every `up`.
set -eu
for db in temporal temporal_visibility; do
  kind=$([ "$db" = temporal ] && echo temporal || echo visibility)
  temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" --pw "$SQL_PASSWORD" --db "$db" create || true
  temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" --pw "$SQL_PASSWORD" --db "$db" setup-schema -v 0.0 || true
  temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" --pw "$SQL_PASSWORD" --db "$db" \
    update-schema -d "/etc/temporal/schema/postgresql/v12/$kind/versioned"
done
echo "Temporal schema is up to date"
