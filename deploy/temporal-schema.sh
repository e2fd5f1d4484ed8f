#!/bin/sh
# Creates Temporal's two databases (if missing) and brings their schemas to the server's own
# version, with Temporal's SQL schema tool and the schemas embedded in it. Run again, it
# changes nothing. docker-compose runs it in the admin-tools image (service temporal-schema);
# `make deploy-check` runs it with the tool built by `go install` (TEMPORAL_SQL_TOOL).
#
# Environment: POSTGRES_SEEDS (host), DB_PORT, POSTGRES_USER, POSTGRES_PWD, and optionally
# TEMPORAL_SQL_TOOL (default temporal-sql-tool, the name in the admin-tools image) and
# TEMPORAL_SCHEMAS (database:schema pairs; default both stores).
set -eu

tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
set -- --plugin postgres12 --ep "${POSTGRES_SEEDS}" -p "${DB_PORT:-5432}" \
    -u "${POSTGRES_USER}" --pw "${POSTGRES_PWD:-}"

for pair in ${TEMPORAL_SCHEMAS:-temporal:temporal temporal_visibility:visibility}; do
    database="${pair%%:*}"
    schema="${pair#*:}"
    if "$tool" "$@" --db "$database" update-schema --schema-name "postgresql/v12/$schema" \
        >/dev/null 2>&1; then
        echo "temporal-schema: $database is at the current version"
        continue
    fi
    # An existing but empty database refuses creation; setup-schema then reports any real error.
    "$tool" "$@" --db "$database" create-database || echo "temporal-schema: $database exists"
    "$tool" "$@" --db "$database" setup-schema -v 0.0
    "$tool" "$@" --db "$database" update-schema --schema-name "postgresql/v12/$schema"
    echo "temporal-schema: $database created at the current version"
done
