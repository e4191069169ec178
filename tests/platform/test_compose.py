"""docker-compose.yml: valid, with the production security defaults and the connection pool. No Docker engine is
needed: `docker-compose config` (Debian's docker-compose package) parses and resolves the file without one."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = shutil.which("docker-compose")


def _config(**env) -> str:
    result = subprocess.run(
        [COMPOSE, "-f", str(ROOT / "docker-compose.yml"), "config"],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(COMPOSE is None, reason="apt-get install docker-compose (.ci/run installs it)")
def test_the_compose_stack_defaults_to_https_only_cookies_hsts_and_a_pool():
    config = _config(SECRET_KEY="x", POSTGRES_PASSWORD="y")
    web = config.split("\n  web:\n", 1)[1].split("\n  worker:\n", 1)[0]
    for line in [
        'DEBUG: "false"',
        "COMMERCE_HUB_SITE_SCHEME: https",
        'SECURE_SSL_REDIRECT: "true"',
        'SESSION_COOKIE_SECURE: "true"',
        'CSRF_COOKIE_SECURE: "true"',
        "SECURE_HSTS_SECONDS: '31536000'",
        'SECURE_HSTS_INCLUDE_SUBDOMAINS: "true"',
        'SECURE_HSTS_PRELOAD: "true"',
        'TRUST_X_FORWARDED_PROTO: "true"',
        "DB_POOL_MAX_SIZE: '4'",
        "DB_POOL_TIMEOUT: '10'",
    ]:
        assert line in web, line


@pytest.mark.skipif(COMPOSE is None, reason="apt-get install docker-compose (.ci/run installs it)")
def test_the_compose_stack_refuses_to_start_without_its_secrets():
    result = subprocess.run(
        [COMPOSE, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "set POSTGRES_PASSWORD" in result.stderr + result.stdout
