"""deploy/ is what an operator reads: it must name every setting the site reads and every periodic
command the site has, and the nginx site must pass WebSockets through."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DEPLOY = ROOT / "deploy"


def settings_read_from_the_environment() -> set[str]:
    names = set()
    for module in (ROOT / "config" / "settings").glob("*.py"):
        names |= set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', module.read_text()))
    return names


def test_the_example_env_file_names_every_setting_the_site_reads():
    read = settings_read_from_the_environment()
    # test.py's and the test servers' own are not for operators.
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL", "TRUSTED_PROXIES"} <= read
    example = (DEPLOY / "env.example").read_text()
    named = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    assert read - named == set(), "deploy/env.example is missing these"
    assert named - read - {"DJANGO_SETTINGS_MODULE"} == set(), "deploy/env.example names settings nobody reads"


def test_the_cron_file_runs_every_periodic_command():
    commands = {
        path.stem
        for path in ROOT.glob("*/management/commands/*.py")
        if path.stem != "__init__" and "cron" in path.read_text().lower()
    }
    assert commands == {"requests_sweep", "notifications_email", "credentials_remind"}
    cron = (DEPLOY / "cron" / "jinlin").read_text()
    for command in commands:
        assert re.search(rf"^[^#].* manage\.py {command}\b", cron, flags=re.MULTILINE), command


def test_the_nginx_site_passes_websockets_and_the_client_address():
    site = (DEPLOY / "nginx" / "jinlin.conf").read_text()
    assert "location /ws/" in site
    assert "proxy_set_header Upgrade $http_upgrade;" in site
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
