"""compose.yaml runs the README's production table (Docker cannot run here: it is parsed).

Each app service's command is an entry point command (bin/docker-entrypoint) whose branch
runs what the README's table says for that process; every app service gets the README's
environment and the same database, broker, media and model store.
"""

import re
import shlex
from pathlib import Path

import pytest
import yaml

from memesense_site.tests.test_docker import setup_branch

BASE_DIR = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "worker-slow")
# README table row -> the compose service that runs it.
TABLE_ROWS = {
    "web": "web",
    "upload worker": "worker",
    "slow worker": "worker-slow",
    "release step": "migrate",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def readme() -> str:
    return (BASE_DIR / "README.md").read_text()


def production_table(readme: str) -> dict[str, str]:
    """{process: command} from the README's `| Process | Command | How many |` table."""
    rows = {}
    for line in readme.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("`"):
            rows[cells[0]] = re.match(r"`([^`]+)`", cells[1])[1]
    return rows


def entrypoint_branch(command: str) -> list[str]:
    """The words the entry point runs for `command`, `exec` and `bin/setup` resolved."""
    text = (BASE_DIR / "bin" / "docker-entrypoint").read_text()
    branch = text.split(f"    {command})", 1)[1].split(";;", 1)[0]
    words = []
    for line in branch.splitlines():
        line = line.strip()
        if line.startswith(("if ", "fi", "#")) or not line:
            continue
        line_words = [w for w in shlex.split(line) if w != "exec"]
        if line_words[:1] == ["bin/setup"]:  # the step's command, from the set-up script
            (line_words,) = setup_branch(line_words[1])
            line_words = ["python" if w == "${PYTHON:-python}" else w for w in line_words]
        words.extend(line_words)
    return words


def readme_environment(readme: str) -> set[str]:
    """The variables the README's Production/Environment block says every process needs."""
    section = readme.split("### Environment", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return set(re.findall(r"^([A-Z_]+)=", section, re.MULTILINE))


def test_the_readme_table_is_what_compose_runs(compose, readme):
    table = production_table(readme)
    assert set(table) == set(TABLE_ROWS)
    for process, service in TABLE_ROWS.items():
        (command,) = compose["services"][service]["command"]
        runs = entrypoint_branch(command)
        expected = [w for w in shlex.split(table[process]) if w != "python" or "python" in runs]
        # The table's words, in order, are what the branch runs (gunicorn adds --config).
        it = iter(runs)
        assert all(word in it for word in expected), (process, runs, expected)


def test_every_app_service_is_the_image_with_the_readme_environment(compose, readme):
    needed = readme_environment(readme)
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "ML_MODEL_ROOT"} <= needed
    shared = {}
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["build"] == "." and service["image"] == "memesense"
        env = service["environment"]
        assert needed <= set(env), (name, needed - set(env))
        for key in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "ML_MODEL_ROOT"):
            assert shared.setdefault(key, env[key]) == env[key], (name, key)
    assert "@db:5432/" in shared["DATABASE_URL"] and "db" in compose["services"]
    assert shared["REDIS_URL"].startswith("redis://redis:") and "redis" in compose["services"]


def test_media_and_models_are_volumes_mounted_where_the_settings_point(compose):
    for name in APP_SERVICES:
        service = compose["services"][name]
        mounts = dict(volume.split(":", 1)[::-1] for volume in service["volumes"])
        env = service["environment"]
        assert mounts[env["MEDIA_ROOT"]] == "media"
        assert mounts[env["ML_MODEL_ROOT"]] == "models"
    assert {"media", "models", "pgdata"} <= set(compose["volumes"])


def test_the_web_and_workers_start_after_the_release_step(compose):
    web = compose["services"]["web"]
    assert web["environment"]["MIGRATE_ON_START"] == "0"
    assert web["ports"] == ["8080:8080"]
    for name in ("web", "worker", "worker-slow"):
        depends = compose["services"][name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
    assert compose["services"]["migrate"]["restart"] == "no"


def test_secret_key_is_required_not_defaulted(compose):
    secret = compose["services"]["web"]["environment"]["SECRET_KEY"]
    assert re.fullmatch(r"\$\{SECRET_KEY:\?.+\}", secret)


def test_every_variable_compose_sets_for_the_app_is_a_setting(compose):
    listed = set(
        re.findall(r"^([A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.MULTILINE)
    )
    for name in APP_SERVICES:
        assert set(compose["services"][name]["environment"]) - listed == set(), name


def test_the_table_check_notices_a_wrong_command():
    # What the first test relies on: a branch that runs something else does not match.
    runs = entrypoint_branch("worker")
    it = iter(runs)
    assert not all(word in it for word in ["gunicorn", "memesense_site.wsgi"])
