"""Start and stop the real processes of a deployment on this machine, for tests and benches.

A throw-away database (a new PostgreSQL database next to DATABASE_URL's, or an SQLite
file), migrated by `manage.py migrate`; django-q2 clusters (`manage.py qcluster`) and
gunicorn as subprocesses, each in its own process group so that everything it forked is
stopped with it; and plain SQL reads of the database, so the caller needs no Django set-up
of its own. Every process listens on, or talks to, 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# A secret for these throw-away stacks only (settings refuse to start without one).
SECRET_KEY = "bench-stack-only-not-a-secret-" + "x" * 24


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


@dataclass
class Stack:
    """A throw-away database and media folder, and the processes started against them."""

    workdir: Path
    database_url: str
    redis_url: str = ""
    env_extra: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)
    # django-q2 names its Redis list after the cluster name: unique per stack, so two
    # stacks (or another engineer's worker) never take each other's tasks.
    q_name: str = field(default_factory=lambda: f"memesense-{uuid.uuid4().hex[:10]}")

    @classmethod
    def create(
        cls, workdir: Path, *, database_url: str = "", redis_url: str = "", **env: str
    ) -> Stack:
        """Create an empty database (PostgreSQL when `database_url` is one) and migrate it."""
        workdir.mkdir(parents=True, exist_ok=True)
        if is_postgres(database_url):
            name = f"memesense_stack_{uuid.uuid4().hex[:12]}"
            _pg_admin(database_url, f'CREATE DATABASE "{name}"')
            url = _with_database(database_url, name)
        else:
            url = f"sqlite:///{workdir / 'db.sqlite3'}"
        stack = cls(workdir=workdir, database_url=url, redis_url=redis_url, env_extra=env)
        stack.manage("migrate", "--noinput", timeout=300)
        return stack

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "MEMESENSE_OCR_ENGINE")
        }
        env.update(
            SECRET_KEY=SECRET_KEY,
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            VAR_DIR=str(self.workdir / "var"),
            MEDIA_ROOT=str(self.workdir / "media"),
            Q_NAME=self.q_name,
            Q_SYNC="0",
            # A developer's .env must not change what these processes run with.
            DOTENV_FILE="",
            PYTHONUNBUFFERED="1",
            # One thread per process: the workers are the parallelism.
            OMP_NUM_THREADS="1",
            OMP_THREAD_LIMIT="1",
            ML_THREADS="1",
            TF_CPP_MIN_LOG_LEVEL="3",
        )
        env.update(self.env_extra)
        env.update(extra)
        return env

    def manage(self, *args: str, timeout: float = 120, **env: str) -> str:
        """Run a management command to completion; return its output."""
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def upload_files(self, paths: list[Path], **env: str) -> list[int]:
        """Store images through the upload service (queued on commit); return meme ids."""
        code = (
            "import json; from pathlib import Path;"
            "from classifier import services;"
            "from classifier.validation import normalise_upload;"
            f"paths = {[str(p) for p in paths]!r};"
            "ids = [services.meme_create(image=normalise_upload(Path(p).read_bytes(),"
            " Path(p).name), uploader=None)[0].pk for p in paths];"
            "print(json.dumps(ids))"
        )
        out = self.manage("shell", "-c", code, **env)
        return json.loads(out.strip().splitlines()[-1])

    def start(self, args: list[str], log_name: str, **env: str) -> subprocess.Popen:
        """Start a long-running process in its own process group, logging to a file."""
        log = open(self.workdir / log_name, "ab")  # noqa: SIM115 - closed in stop()
        process = subprocess.Popen(
            args,
            cwd=BASE_DIR,
            env=self.env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log_path = self.workdir / log_name  # type: ignore[attr-defined]
        process.log_file = log  # type: ignore[attr-defined]
        self.processes.append(process)
        return process

    def start_cluster(self, name: str, *, workers: int = 1, **env: str) -> subprocess.Popen:
        """Start `manage.py qcluster` with `workers` worker processes."""
        return self.start(
            [PYTHON, "manage.py", "qcluster"], f"{name}.log", Q_WORKERS=str(workers), **env
        )

    def start_gunicorn(self, port: int, *, workers: int = 2, **env: str) -> subprocess.Popen:
        return self.start(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "--config",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "memesense_site.wsgi",
            ],
            "gunicorn.log",
            **env,
        )

    def stop(self, process: subprocess.Popen, *, grace: float = 20) -> None:
        """Stop a process and everything it forked: SIGTERM, then SIGKILL after `grace`."""
        if process.poll() is None:
            try:
                os.kill(process.pid, signal.SIGTERM)
                process.wait(timeout=grace)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        process.log_file.close()  # type: ignore[attr-defined]
        if process in self.processes:
            self.processes.remove(process)

    def close(self) -> None:
        """Stop every process, empty the Redis queue, drop a PostgreSQL database."""
        for process in list(self.processes):
            self.stop(process)
        if self.redis_url:
            self._forget_redis_keys()
        if is_postgres(self.database_url):
            name = urlsplit(self.database_url).path.lstrip("/")
            _pg_admin(self.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _forget_redis_keys(self) -> None:
        import redis

        try:
            client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2)
            keys = list(client.scan_iter(f"*{self.q_name}*"))
            if keys:
                client.delete(*keys)
        except redis.RedisError:
            pass  # Redis is down (a fault test); its keys are gone with it or expire

    # --- Reading the database -----------------------------------------------------------

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one read-only SQL query (use %s placeholders) and return its rows."""
        if is_postgres(self.database_url):
            import psycopg

            with psycopg.connect(self.database_url, connect_timeout=5) as conn:
                return list(conn.execute(sql, params).fetchall())
        with sqlite3.connect(urlsplit(self.database_url).path, timeout=20) as conn:
            return list(conn.execute(sql.replace("%s", "?"), params).fetchall())

    def meme_statuses(self) -> dict[int, tuple[str, int, str]]:
        """Return {meme id: (status, attempts, failure reason)}."""
        rows = self.query("SELECT id, status, attempts, failure_reason FROM classifier_meme")
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    def prediction_counts(self) -> dict[int, int]:
        rows = self.query("SELECT meme_id, COUNT(*) FROM classifier_prediction GROUP BY meme_id")
        return dict(rows)

    def wait_for(self, condition, *, timeout: float, interval: float = 0.25, what: str = ""):
        """Poll `condition()` until it returns something truthy; fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up after {timeout:.0f}s waiting for {what}")
            time.sleep(interval)


def multipart_body(filename: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    """A multipart/form-data body with one file field named "image", and its content type."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"'
        f"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def worker_pids(process: subprocess.Popen) -> list[int]:
    """Return the pids of a qcluster's worker processes, from its log ("ready for work at")."""
    text = Path(process.log_path).read_text(errors="replace")  # type: ignore[attr-defined]
    return [int(pid) for pid in re.findall(r"ready for work at (\d+)", text)]


def processed_task_names(process: subprocess.Popen) -> list[str]:
    """Return the task names a qcluster's workers started, in order, from its log."""
    text = Path(process.log_path).read_text(errors="replace")  # type: ignore[attr-defined]
    return re.findall(r"processing (\S+) 'classifier\.tasks\.classify_meme'", text)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _proc_state(pid)


def _proc_state(pid: int) -> str:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "zombie"
    match = re.search(r"^State:\s+\S+\s+\((\w+)\)", status, re.MULTILINE)
    return match[1] if match else ""


def rss_kb(pid: int) -> int:
    """Return a process's peak resident memory (VmHWM) in kilobytes, 0 if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match[1]) if match else 0
