"""The image and the Makefile run one set-up script, bin/setup (Docker cannot run here).

The Dockerfile, the image's entry point and the Makefile are parsed into the commands they
run: each set-up step is a call to bin/setup, and neither repeats a step of its own (pip,
apt, migrate, collectstatic). The script itself is parsed for what it installs and run for
real for the Django steps.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
SETUP = BASE_DIR / "bin" / "setup"
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


def setup_steps(cmds: list[list[str]]) -> set[tuple[str, ...]]:
    """Return {(step, flags...)} of the bin/setup calls among `cmds`."""
    found = set()
    for cmd in cmds:
        for i, word in enumerate(cmd):
            if word.endswith("bin/setup"):
                rest = [w for w in cmd[i + 1 :] if not w.startswith("$(") and "/" not in w]
                found.add(tuple(rest))
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


def setup_branch(step: str) -> list[list[str]]:
    """The commands of one step of bin/setup (its `case` branch), comments dropped."""
    branch = SETUP.read_text().split(f"    {step})", 1)[1].split(";;", 1)[0]
    lines = [re.sub(r"(^|\s)#.*$", "", line).strip() for line in branch.splitlines()]
    return [c for line in lines if line for c in commands(line)]


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
    return [c for line in lines for c in commands(line)]


def test_the_image_and_the_makefile_run_every_step_through_the_setup_script(docker_cmds, make_cmds):
    steps = {("system",), ("python",), ("migrate",), ("static",)}
    assert {step[:1] for step in setup_steps(make_cmds)} == steps
    assert {step[:1] for step in setup_steps(docker_cmds)} == steps
    # The image adds its runtime libraries through the same script.
    assert ("system", "--image") in setup_steps(docker_cmds)


def test_neither_runs_a_setup_step_of_its_own(docker_cmds, make_cmds):
    for cmds in (docker_cmds, make_cmds):
        assert pip_installs(cmds) == set()
        assert apt_packages(cmds) == set()
        assert manage_commands(cmds) == set()


def test_the_setup_script_installs_the_requirements_with_their_flags():
    assert pip_installs(setup_branch("python")) == {
        ("requirements.txt", False),
        ("requirements-models.txt", True),
    }
    # The packages are the script's two arrays: everywhere, and in the image only.
    arrays = dict(re.findall(r"^(\w+)=\((.*)\)$", SETUP.read_text(), re.MULTILINE))
    assert shlex.split(arrays["SYSTEM_PACKAGES"]) == ["tesseract-ocr"]
    assert set(shlex.split(arrays["IMAGE_PACKAGES"])) == {"libgl1", "libglib2.0-0"}
    assert apt_packages(setup_branch("system")) == {"${packages[@]}"}
    assert manage_commands(setup_branch("migrate")) == {("migrate", "--noinput")}
    assert manage_commands(setup_branch("static")) == {("collectstatic", "--noinput")}


def test_what_the_setup_script_reads_is_copied_before_it_runs():
    instructions = dockerfile_instructions((BASE_DIR / "Dockerfile").read_text())
    copied: set[str] = set()
    needed = {
        "python": {"requirements.txt", "requirements-models.txt"},
        "system": {"bin/apt-install"},
    }
    for word, args in instructions:
        if word == "COPY":
            sources = shlex.split(args)
            copied.update(
                (f"{sources[-1]}{Path(src).name}" if sources[-1] != "./" else src)
                if sources[-1].endswith("/")
                else src
                for src in sources[:-1]
            )
        if word == "RUN":
            for step, *_ in setup_steps(commands(args)):
                assert "bin/setup" in copied or "." in copied, "bin/setup is not copied first"
                assert needed.get(step, set()) <= copied or "." in copied, step


def test_the_setup_script_migrates_and_collects_static_files_for_real(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "PYTHON": sys.executable,
        "SECRET_KEY": "setup-test-only",
        "DOTENV_FILE": "",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),
        "VAR_DIR": str(tmp_path / "var"),
    }
    for step in ("migrate", "static"):
        result = subprocess.run(
            [str(SETUP), step], env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert (tmp_path / "db.sqlite3").stat().st_size > 0
    wrong = subprocess.run([str(SETUP), "deploy"], env=env, capture_output=True, text=True)
    assert wrong.returncode == 2 and "unknown step" in wrong.stderr


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


def test_the_parsers_notice_a_step_of_its_own():
    # The checks above must be able to fail: a Dockerfile that installs without the script.
    own = commands("pip install -r requirements.txt && apt-get install -y libgl1")
    assert pip_installs(own) == {("requirements.txt", False)}
    assert apt_packages(own) == {"libgl1"}
    assert setup_steps(commands("PYTHON=$(PY) bin/setup migrate")) == {("migrate",)}
    assert manage_commands(commands("python manage.py migrate --noinput")) == {
        ("migrate", "--noinput")
    }


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
