# Sourced by the mariadb image's entrypoint on the first start of an empty data volume (docker-compose.yml mounts
# this folder at /docker-entrypoint-initdb.d). The image itself creates MARIADB_USER, the migrator, with every right
# on MARIADB_DATABASE; this adds the user the services run as, which may only read and write rows. mysql_note,
# mysql_error, docker_process_sql and MYSQL_DATABASE (set from MARIADB_DATABASE) are the entrypoint's own.
# Keep this file not executable: the entrypoint runs executable scripts apart, without its docker_process_sql.

if [ -z "${FINSTAGE_RUNTIME_USER:-}" ] || [ -z "${FINSTAGE_RUNTIME_PASSWORD:-}" ]; then
  mysql_error "FINSTAGE_RUNTIME_USER and FINSTAGE_RUNTIME_PASSWORD must be set (see .env.example)"
fi

# As a SQL string literal: backslashes and single quotes escaped.
runtime_password_sql="${FINSTAGE_RUNTIME_PASSWORD//\\/\\\\}"
runtime_password_sql="${runtime_password_sql//\'/\\\'}"

mysql_note "Creating user ${FINSTAGE_RUNTIME_USER} with SELECT, INSERT, UPDATE, DELETE on ${MYSQL_DATABASE}"
docker_process_sql --database=mysql <<EOSQL
CREATE USER '${FINSTAGE_RUNTIME_USER}'@'%' IDENTIFIED BY '${runtime_password_sql}';
GRANT SELECT, INSERT, UPDATE, DELETE ON \`${MYSQL_DATABASE//_/\\_}\`.* TO '${FINSTAGE_RUNTIME_USER}'@'%';
EOSQL
unset runtime_password_sql
