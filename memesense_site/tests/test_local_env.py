"""Local conveniences: the .env make writes, settings reading it, make superuser without a TTY.

Settings are loaded in fresh processes (they are read once per process), with their
environment chosen here; make runs for real, with the pip stamp marked as up to date so
it never touches the shared virtualenv.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def load_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'memesense_site.settings';"
        "from django.conf import settings;"
        "print(settings.DEBUG, settings.SECRET_KEY, settings.ALLOWED_HOSTS)"
    )
    base = {"PATH": os.environ["PATH"], "VAR_DIR": env.pop("VAR_DIR")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def make(*args: str, cwd: Path = BASE_DIR, env: dict | None = None, stdin=None):
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.requirements.stamp", *args],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=stdin,
    )


@pytest.fixture
def dotenv(tmp_path) -> Path:
    """A .env written by the Makefile's own rule, in a directory of its own."""
    result = subprocess.run(
        ["make", "-f", str(BASE_DIR / "Makefile"), "--no-print-directory", ".env"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Wrote .env" in result.stdout
    return tmp_path / ".env"


def test_make_writes_a_dotenv_with_debug_and_a_generated_secret_key(dotenv, tmp_path):
    lines = dotenv.read_text().splitlines()
    assert "DEBUG=1" in lines
    (key,) = [line.split("=", 1)[1] for line in lines if line.startswith("SECRET_KEY=")]
    assert len(key) >= 50
    # Never overwritten: a second run keeps the key.
    again = subprocess.run(
        ["make", "-f", str(BASE_DIR / "Makefile"), ".env"], cwd=tmp_path, capture_output=True
    )
    assert again.returncode == 0 and dotenv.read_text().splitlines() == lines


def test_the_repository_ignores_the_dotenv():
    result = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=BASE_DIR)
    assert result.returncode == 0


def test_settings_read_the_dotenv_so_local_commands_need_no_debug(dotenv, tmp_path):
    key = next(line for line in dotenv.read_text().splitlines() if line.startswith("SECRET_KEY="))
    result = load_settings({"DOTENV_FILE": str(dotenv), "VAR_DIR": str(tmp_path / "var")})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["True", key.split("=", 1)[1]]


def test_the_environment_wins_over_the_dotenv(dotenv, tmp_path):
    result = load_settings(
        {
            "DOTENV_FILE": str(dotenv),
            "DEBUG": "0",
            "SECRET_KEY": "from-the-environment",
            "VAR_DIR": str(tmp_path / "var"),
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["False", "from-the-environment"]


def test_without_a_dotenv_production_still_fails_loudly_without_a_secret_key(tmp_path):
    result = load_settings(
        {"DOTENV_FILE": str(tmp_path / "missing.env"), "VAR_DIR": str(tmp_path / "var")}
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_tests_themselves_ignore_a_developers_dotenv():
    from django.conf import settings

    assert os.environ["DOTENV_FILE"] == ""
    assert os.environ["SECRET_KEY"] == settings.SECRET_KEY


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> dict[str, str]:
    """A migrated SQLite database the make subprocesses share."""
    workdir = tmp_path_factory.mktemp("superuser")
    env = {
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "VAR_DIR": str(workdir / "var"),
        "SECRET_KEY": "superuser-test-only",
        "DEBUG": "1",
        "DOTENV_FILE": "",
    }
    result = subprocess.run(
        [str(BASE_DIR / "bin" / "setup"), "migrate"],
        cwd=BASE_DIR,
        env={"PATH": os.environ["PATH"], "PYTHON": sys.executable, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return env


def test_make_superuser_without_a_terminal_creates_it_from_the_environment(database):
    env = {
        **database,
        "DJANGO_SUPERUSER_USERNAME": "root-admin",
        "DJANGO_SUPERUSER_PASSWORD": "a long admin password",
        "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
    }
    result = make("-o", ".env", "superuser", env=env, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert "Created superuser root-admin" in result.stdout
    check = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            # The password itself, not authenticate(): django-axes wants a request there.
            "from django.contrib.auth import get_user_model;"
            "u = get_user_model().objects.get(username='root-admin');"
            "print(u.is_superuser and u.check_password('a long admin password'), u.email)",
        ],
        cwd=BASE_DIR,
        env={"PATH": os.environ["PATH"], **database},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.stdout.splitlines()[-1].split() == ["True", "admin@example.com"], check.stderr

    again = make("-o", ".env", "superuser", env=env, stdin=subprocess.DEVNULL)
    assert again.returncode != 0 and "already taken" in again.stderr


def test_make_superuser_without_a_terminal_or_variables_says_what_to_set(database):
    result = make("-o", ".env", "superuser", env=database, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    assert "DJANGO_SUPERUSER_USERNAME" in result.stderr
    assert "skipped" not in result.stdout + result.stderr
