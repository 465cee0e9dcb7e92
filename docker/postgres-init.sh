#!/usr/bin/env bash
# Brygga's ledger lives in its own database and role, beside Airflow's metadata database. PostgreSQL's image runs
# this once, when its data volume is new. The password goes in as a psql variable, quoted by psql itself.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -v brygga_password="${BRYGGA_DB_PASSWORD:?set BRYGGA_DB_PASSWORD}" \
     --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE brygga LOGIN PASSWORD :'brygga_password';
CREATE DATABASE brygga OWNER brygga;
SQL
