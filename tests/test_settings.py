import os
import subprocess
import sys

from django.conf import settings


def run_with_production_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings.production", **env)
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed command
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_its_secrets():
    result = run_with_production_settings()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_sqlite_and_the_in_memory_layer():
    secrets = {"DJANGO_SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "jinlin.example"}
    no_database = run_with_production_settings(**secrets)
    assert no_database.returncode != 0
    assert "PostgreSQL" in no_database.stderr
    no_redis = run_with_production_settings(**secrets, DATABASE_URL="postgres://postgres@127.0.0.1:5432/jinlin")
    assert no_redis.returncode != 0
    assert "REDIS_URL" in no_redis.stderr


def test_production_refuses_a_wildcard_host():
    result = run_with_production_settings(DJANGO_SECRET_KEY="x" * 60, ALLOWED_HOSTS="*")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_private_files_live_outside_what_media_serves():
    """Certificates go to the private storage, a folder the media route never serves."""
    from config.settings import base

    private = str(base.STORAGES["private"]["OPTIONS"]["location"])
    media = str(base.MEDIA_ROOT)
    assert private != media
    assert not private.startswith(media.rstrip("/") + "/")
