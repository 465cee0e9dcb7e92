#!/usr/bin/env bash
# Brygga's ledger lives in its own database and role, beside Airflow's metadata database.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE brygga LOGIN PASSWORD '${BRYGGA_DB_PASSWORD}';
CREATE DATABASE brygga OWNER brygga;
SQL
