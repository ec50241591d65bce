#!/usr/bin/env bash
# `make run-prod`: the production profile on this machine, for trying it out. Two uvicorn workers
# on 127.0.0.1:8000 (HOST, PORT, WORKERS to change) against the local PostgreSQL and Redis, with the
# demo data. What it adds to a real deployment (deploy/README.md), and why:
#   - plain HTTP on 127.0.0.1 with no nginx in front, so the HTTPS redirect is off and Django
#     serves /media/ itself (`check --deploy` would rightly warn about the first);
#   - a secret key, static and media folders of its own under .run-prod/ (kept between runs;
#     RUN_PROD_STATE names another folder, RUN_PROD_DATABASE_URL / RUN_PROD_REDIS_URL other stores).
# Open http://localhost:8000/ (session cookies are Secure; browsers accept those from localhost).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN=.venv/bin
STATE="$(realpath -m "${RUN_PROD_STATE:-.run-prod}")"
mkdir -p "$STATE"
if [ ! -s "$STATE/secret_key" ]; then
    "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))' > "$STATE/secret_key"
    chmod 600 "$STATE/secret_key"
fi

export DJANGO_SETTINGS_MODULE=config.settings.production
DJANGO_SECRET_KEY="$(cat "$STATE/secret_key")"
export DJANGO_SECRET_KEY
export DATABASE_URL="${RUN_PROD_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/jinlin_prod}"
export REDIS_URL="${RUN_PROD_REDIS_URL:-redis://127.0.0.1:6379/1}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
export DJANGO_SECURE_SSL_REDIRECT=false
export SERVE_MEDIA=true
export STATIC_ROOT="$STATE/static"
export MEDIA_ROOT="$STATE/media"
export PRIVATE_MEDIA_ROOT="$STATE/private-media"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
WORKERS="${WORKERS:-2}"
export SITE_URL="${SITE_URL:-http://localhost:$PORT}"

# The database, created on first use (the server must answer: start it as the README says).
"$BIN/python" - <<'PY'
import os
import sys

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

url = os.environ["DATABASE_URL"]
name = conninfo_to_dict(url)["dbname"]
try:
    with psycopg.connect(make_conninfo(url, dbname="postgres", connect_timeout=5), autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"run-prod: created database {name}")
except psycopg.OperationalError as error:
    sys.exit(f"run-prod: PostgreSQL does not answer at {url}: {error}".strip())
PY
"$BIN/python" - <<'PY'
import os
import sys

import redis

try:
    redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=5).ping()
except redis.RedisError as error:
    sys.exit(f"run-prod: Redis does not answer at {os.environ['REDIS_URL']}: {error}")
PY
"$BIN/python" manage.py migrate --no-input
"$BIN/python" manage.py collectstatic --no-input --verbosity 0
"$BIN/python" manage.py load_demo
echo "run-prod: $WORKERS workers on http://$HOST:$PORT/ (DATABASE_URL=$DATABASE_URL, REDIS_URL=$REDIS_URL)"
exec "$BIN/uvicorn" config.asgi:application --host "$HOST" --port "$PORT" --workers "$WORKERS" \
    --lifespan off --no-proxy-headers --timeout-graceful-shutdown 10
