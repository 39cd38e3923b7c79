#!/bin/sh
# Run once, by the postgres image on its first start (docker-entrypoint-initdb.d), as the
# superuser. Makes the roles Centinela needs, none of them a superuser:
#   centinela  owns the database; migrates and serves. CREATEROLE because the migrations create
#              the roles the service and the dashboards run as (centinela_service, centinela_dashboard…).
#   grafana    logs in for the dashboards; a member of centinela_dashboard only, which reads the
#              views of schema `dashboard` and nothing else (Schema/0010_dashboards.sql).
set -eu
app_password=$(cat /run/secrets/db_password)
grafana_password=$(cat /run/secrets/grafana_db_password)
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set app_password="$app_password" --set grafana_password="$grafana_password" <<'SQL'
CREATE ROLE centinela LOGIN CREATEROLE PASSWORD :'app_password';
CREATE DATABASE centinela OWNER centinela;
-- The migration makes it too; made here so that the Grafana login can be put in it now.
CREATE ROLE centinela_dashboard NOLOGIN;
CREATE ROLE grafana LOGIN PASSWORD :'grafana_password' IN ROLE centinela_dashboard;
SQL
