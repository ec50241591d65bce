"""Test settings: the embedded default, or PostgreSQL + Redis when their URLs are set."""

import os

from .base import *  # noqa: F403
from .base import BASE_DIR, CACHES, CHANNEL_LAYERS, DATABASES, REDIS_URL

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "private": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Consumers and the browser test reach the database from other threads: an
# in-memory SQLite database is per connection, so the test database is a file.
TEST_ARTIFACTS = BASE_DIR / "test-artifacts"
TEST_ARTIFACTS.mkdir(exist_ok=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One file per run, so that two runs on one machine never share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(TEST_ARTIFACTS / f"test-{os.getpid()}.sqlite3")}
else:
    # The same on PostgreSQL: two runs sharing "test_jinlin" would drop it under each other.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
if REDIS_URL:
    # Tests share Redis with `make run` and other runs: keep their groups and channels apart.
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"asgi-test-{os.getpid()}"
    RATE_LIMIT_KEY_PREFIX = f"jinlin-limits-test-{os.getpid()}"
    # The cache too: tests/conftest.py empties this prefix between tests, never the whole Redis.
    CACHES["default"]["KEY_PREFIX"] = f"jinlin-test-{os.getpid()}"
# Tests never reach the network: the map falls back to markers on a plain background.
MAP_TILE_URL = ""
