#!/usr/bin/env bash
# Usage: entrypoint.sh [migrate|web|worker|beat|healthcheck|<command> [args...]]
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")/.."

wait_for_db() {
    : "${DATABASE_URL:?DATABASE_URL is not set}"
    python - <<'PY'
import os
import sys
import time

import psycopg

attempts = int(os.environ.get("DB_WAIT_ATTEMPTS", "30"))
delay = float(os.environ.get("DB_WAIT_DELAY", "2"))

for attempt in range(1, attempts + 1):
    try:
        psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        # libpq messages name host and port, never the password.
        print(f"Database not ready ({attempt}/{attempts}): {str(exc).strip()}", file=sys.stderr)
        if attempt < attempts:
            time.sleep(delay)
    else:
        sys.exit(0)
sys.exit(f"Database still unreachable after {attempts} attempts; giving up.")
PY
}

migrate() {
    wait_for_db
    # The public schema and the platform rows must exist before tenant schemas can be enumerated.
    python manage.py migrate_schemas --shared
    python manage.py bootstrap_platform
    python manage.py migrate_schemas
}

healthcheck() {
    # Sent with the public domain as Host: the tenant middleware answers 404 for unknown hosts such as
    # 127.0.0.1. Redirects are not followed; any answer below 500 means the app loaded and is serving.
    python - <<'PY'
import http.client
import os
import sys

conn = http.client.HTTPConnection("127.0.0.1", 8000, timeout=4)
try:
    conn.request("GET", "/", headers={"Host": os.environ.get("COMMERCE_HUB_BASE_DOMAIN", "localhost")})
    status = conn.getresponse().status
except OSError as exc:
    sys.exit(f"unhealthy: {exc}")
sys.exit(0 if status < 500 else f"unhealthy: HTTP {status}")
PY
}

if [ "$#" -eq 0 ]; then
    set -- web
fi
cmd="$1"
shift

case "$cmd" in
    migrate)
        migrate
        ;;
    web)
        # /dev/shm keeps worker heartbeats off the container's overlay filesystem, where they can stall.
        exec gunicorn commerce_hub.wsgi:application --bind 0.0.0.0:8000 --workers 3 \
            --worker-tmp-dir /dev/shm "$@"
        ;;
    worker)
        # Without -Q a worker consumes every queue the apps register (commerce_hub.registry); pass -Q to narrow it.
        exec celery -A commerce_hub worker "$@"
        ;;
    beat)
        exec celery -A commerce_hub beat --schedule /data/celerybeat-schedule "$@"
        ;;
    healthcheck)
        healthcheck
        ;;
    *)
        exec "$cmd" "$@"
        ;;
esac
