"""Settings come from the environment, with safe defaults, and fail loudly when wrong."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
SETTINGS_FILE = BASE_DIR / "memesense_site" / "settings.py"
KEYS = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASES",
    "Q_CLUSTER",
    "MEDIA_ROOT",
    "MAX_UPLOAD_BYTES",
    "ALLOW_ANONYMOUS_UPLOAD",
    "STORAGES",
    "MIDDLEWARE",
)


def load_settings(**env) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with exactly this environment."""
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "DOTENV_FILE")}
    code = (
        "import json, memesense_site.settings as s;"
        f"print(json.dumps({{k: getattr(s, k) for k in {KEYS!r}}}, default=str))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


def loaded(**env) -> dict:
    result = load_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = load_settings()
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_it_has_safe_local_defaults(tmp_path):
    s = loaded(SECRET_KEY="x", VAR_DIR=str(tmp_path))
    assert s["DEBUG"] is False
    assert s["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s["DATABASES"]["default"]["NAME"] == str(tmp_path / "db.sqlite3")
    assert s["Q_CLUSTER"]["orm"] == "default"
    assert "redis" not in s["Q_CLUSTER"]
    assert s["ALLOW_ANONYMOUS_UPLOAD"] is False
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in s["MIDDLEWARE"]


def test_debug_runs_without_a_secret_key():
    s = loaded(DEBUG="1")
    assert s["DEBUG"] is True
    assert s["SECRET_KEY"]


def test_it_rejects_a_debug_value_it_cannot_read():
    result = load_settings(DEBUG="maybe", SECRET_KEY="x")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_database_url_switches_to_postgresql():
    s = loaded(SECRET_KEY="x", DATABASE_URL="postgres://postgres@127.0.0.1:5432/memesense")
    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["HOST"], db["PORT"]) == ("memesense", "127.0.0.1", 5432)


def test_redis_url_switches_the_task_broker_to_redis():
    s = loaded(SECRET_KEY="x", REDIS_URL="redis://127.0.0.1:6379/0")
    assert s["Q_CLUSTER"]["redis"] == "redis://127.0.0.1:6379/0"
    assert "orm" not in s["Q_CLUSTER"]


def test_the_task_queue_follows_the_django_q2_rules():
    q = loaded(SECRET_KEY="x")["Q_CLUSTER"]
    assert 0 < q["timeout"] < q["retry"]
    assert q["max_attempts"] > 0
    assert q["recycle"] > 0 and q["max_rss"] > 0
    slow = q["ALT_CLUSTERS"]["slow"]
    assert 0 < slow["timeout"] < slow["retry"]


def test_it_refuses_a_retry_shorter_than_the_timeout():
    result = load_settings(SECRET_KEY="x", Q_TIMEOUT="300", Q_RETRY="200")
    assert result.returncode != 0
    assert "must be larger than timeout" in result.stderr


def test_upload_settings_come_from_the_environment(tmp_path):
    s = loaded(
        SECRET_KEY="x",
        MEDIA_ROOT=str(tmp_path),
        MAX_UPLOAD_BYTES="1234",
        ALLOW_ANONYMOUS_UPLOAD="true",
        ALLOWED_HOSTS="memes.example.com, www.memes.example.com",
    )
    assert s["MEDIA_ROOT"] == str(tmp_path)
    assert s["MAX_UPLOAD_BYTES"] == 1234
    assert s["ALLOW_ANONYMOUS_UPLOAD"] is True
    assert s["ALLOWED_HOSTS"] == ["memes.example.com", "www.memes.example.com"]


def test_env_example_lists_every_variable_the_settings_read():
    source = SETTINGS_FILE.read_text()
    read = set(re.findall(r'env_\w+\("([A-Z0-9_]+)"', source))
    listed = set(
        re.findall(r"^([A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.MULTILINE)
    )
    assert read, "no env_*() calls found"
    assert read - listed == set()


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL"])
def test_env_example_holds_no_real_secret(name):
    text = (BASE_DIR / ".env.example").read_text()
    assert re.search(rf"^{name}=$", text, re.MULTILINE)
