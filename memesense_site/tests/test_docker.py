"""The Dockerfile runs the same set-up as the Makefile (Docker cannot run here to check).

Both files are parsed into the set-up steps they run: which requirements files pip
installs and with which flags, which Debian packages apt installs, and the Django
commands (migrate, collectstatic). The image may add runtime libraries, never drop a step.
"""

import re
import shlex
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
# Makefile targets that make up the runtime set-up (`make setup`), not the dev extras.
SETUP_TARGETS = ("$(VENV)/.requirements.stamp", "tesseract", "migrate", "static")


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def makefile_recipes(text: str) -> dict[str, list[str]]:
    """Return {target: recipe lines} for the Makefile's rules, its variables expanded."""
    text = re.sub(r"\\\n\s*", " ", text)
    variables = dict(re.findall(r"^(\w+)\s*:?=\s*(.*)$", text, re.MULTILINE))

    def expand(line: str) -> str:
        for _ in range(5):  # variables defined in terms of others, e.g. MANAGE uses PY
            line = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m[1], m[0]), line)
        return line

    recipes: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("\t") and current is not None:
            recipes[current].append(expand(line.strip().lstrip("@")))
        elif re.match(r"^[^\s#=]+:(?!=)", line):
            current = line.split(":", 1)[0].strip()
            recipes.setdefault(current, [])
        elif not line.startswith("\t"):
            current = None
    return recipes


def commands(shell: str) -> list[list[str]]:
    """Split a shell line into simple commands (on &&, ||, ;), each tokenised."""
    parts = re.split(r"&&|\|\||;", shell)
    return [shlex.split(part) for part in parts if part.strip()]


def pip_installs(cmds: list[list[str]]) -> set[tuple[str, bool]]:
    """Return {(requirements file, installed with --no-deps)} from pip install commands."""
    found = set()
    for cmd in cmds:
        if "pip" not in " ".join(cmd) or "install" not in cmd:
            continue
        for i, word in enumerate(cmd):
            if word == "-r":
                found.add((cmd[i + 1], "--no-deps" in cmd))
    return found


def apt_packages(cmds: list[list[str]]) -> set[str]:
    """Return the packages named by `apt-get install` or bin/apt-install commands."""
    found = set()
    for cmd in cmds:
        words = [w for w in cmd if not w.startswith("-")]
        if words[:2] == ["apt-get", "install"]:
            found.update(words[2:])
        elif words and words[0].endswith("bin/apt-install"):
            found.update(words[1:])
    return found


def manage_commands(cmds: list[list[str]]) -> set[tuple[str, ...]]:
    """Return {(subcommand, flags...)} of manage.py calls, without verbosity flags."""
    found = set()
    for cmd in cmds:
        if "manage.py" in cmd:
            rest = cmd[cmd.index("manage.py") + 1 :]
            flags = sorted(w for w in rest[1:] if w.startswith("--") and w != "--verbosity")
            found.add((rest[0], *flags))
    return found


@pytest.fixture(scope="module")
def docker_cmds() -> list[list[str]]:
    text = (BASE_DIR / "Dockerfile").read_text()
    run = [args for word, args in dockerfile_instructions(text) if word == "RUN"]
    entrypoint = (BASE_DIR / "bin" / "docker-entrypoint").read_text()
    web = entrypoint.split("web)", 1)[1].split(";;", 1)[0]
    return [c for line in [*run, *web.splitlines()] for c in commands(line)]


@pytest.fixture(scope="module")
def make_cmds() -> list[list[str]]:
    recipes = makefile_recipes((BASE_DIR / "Makefile").read_text())
    missing = [t for t in SETUP_TARGETS if t not in recipes]
    assert not missing, f"Makefile lost its set-up targets {missing}"
    lines = [line for target in SETUP_TARGETS for line in recipes[target]]
    return [c for line in lines for c in commands(line.split("||")[-1])]


def test_it_installs_the_same_requirements_files_with_the_same_flags(docker_cmds, make_cmds):
    assert pip_installs(make_cmds) == {
        ("requirements.txt", False),
        ("requirements-models.txt", True),
    }
    assert pip_installs(docker_cmds) == pip_installs(make_cmds)


def test_every_requirements_file_the_image_installs_is_copied_before_pip_runs():
    instructions = dockerfile_instructions((BASE_DIR / "Dockerfile").read_text())
    copied: set[str] = set()
    for word, args in instructions:
        if word == "COPY":
            copied.update(shlex.split(args)[:-1])
        if word == "RUN":
            for name, _ in pip_installs(commands(args)):
                assert name in copied or "." in copied, f"{name} is not copied before pip"


def test_the_image_installs_every_debian_package_the_makefile_does(docker_cmds, make_cmds):
    make_packages = apt_packages(make_cmds)
    assert "tesseract-ocr" in make_packages
    assert make_packages <= apt_packages(docker_cmds)


def test_the_image_runs_migrate_and_collectstatic_like_the_makefile(docker_cmds, make_cmds):
    expected = {("migrate", "--noinput"), ("collectstatic", "--noinput")}
    assert manage_commands(make_cmds) == expected
    assert manage_commands(docker_cmds) == expected


def test_the_image_and_the_project_use_the_same_python():
    pyproject = (BASE_DIR / "pyproject.toml").read_text()
    makefile = (BASE_DIR / "Makefile").read_text()
    base = next(
        args
        for word, args in dockerfile_instructions((BASE_DIR / "Dockerfile").read_text())
        if word == "FROM"
    )
    assert re.match(r"python:3\.11-slim", base)
    assert 'requires-python = ">=3.11,<3.12"' in pyproject
    assert "python3.11" in makefile


def test_the_image_runs_as_a_user_and_checks_its_health():
    instructions = dockerfile_instructions((BASE_DIR / "Dockerfile").read_text())
    users = [args for word, args in instructions if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    (healthcheck,) = [args for word, args in instructions if word == "HEALTHCHECK"]
    assert "/healthz" in healthcheck and "PORT" in healthcheck


def test_the_web_process_listens_on_port_from_the_environment(monkeypatch):
    monkeypatch.setenv("PORT", "9123")
    config: dict = {}
    exec((BASE_DIR / "gunicorn.conf.py").read_text(), config)
    assert config["bind"] == "0.0.0.0:9123"
    assert config["max_requests"] > 0 and config["max_requests_jitter"] > 0
    assert config["timeout"] > 0
    entrypoint = (BASE_DIR / "bin" / "docker-entrypoint").read_text()
    assert "gunicorn --config gunicorn.conf.py" in entrypoint
    assert "qcluster" in entrypoint.split("worker)", 1)[1].split(";;", 1)[0]


def test_the_parsers_notice_a_drift():
    # The comparison above must be able to fail: a Dockerfile that forgets --no-deps.
    drifted = commands("pip install -r requirements.txt && pip install -r requirements-models.txt")
    assert pip_installs(drifted) != {
        ("requirements.txt", False),
        ("requirements-models.txt", True),
    }
    assert apt_packages(commands("apt-get install -y --no-install-recommends libgl1")) == {"libgl1"}


def test_env_example_lists_every_variable_gunicorn_and_the_entrypoint_read():
    read = set(
        re.findall(
            r"""(?:_int\(|environ\.get\()["']([A-Z0-9_]+)["']""",
            (BASE_DIR / "gunicorn.conf.py").read_text(),
        )
    )
    read |= set(
        re.findall(r"\$\{([A-Z_][A-Z0-9_]*):-", (BASE_DIR / "bin/docker-entrypoint").read_text())
    )
    listed = set(
        re.findall(r"^([A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.MULTILINE)
    )
    assert {"PORT", "WEB_CONCURRENCY", "MIGRATE_ON_START"} <= read
    assert read - listed == set()
