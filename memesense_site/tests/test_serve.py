"""bin/serve (what `make run` starts): the web server and both task clusters, stopped together.

A real process test: bin/serve on an ephemeral port against a throw-away SQLite database,
its children read from /proc, a retrain queued the way the dashboard queues it, then
SIGTERM to bin/serve alone.
"""

import os
import signal
import socket
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bench import stack as live

pytestmark = pytest.mark.live

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def describe(pid: int) -> tuple[str, str]:
    """(command line, Q_CLUSTER_NAME) of a process."""
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    cluster = next(
        (e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"Q_CLUSTER_NAME=")), ""
    )
    return cmdline.strip(), cluster


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def stack(tmp_path):
    created = live.Stack.create(tmp_path / "stack")  # SQLite, the database as the broker
    yield created
    created.close()


def test_it_starts_the_web_server_and_both_clusters_and_a_dashboard_retrain_runs(stack):
    port = free_port()
    serve = stack.start(
        [str(BASE_DIR / "bin" / "serve")],
        "serve.log",
        PYTHON=sys.executable,
        HOST="127.0.0.1",
        PORT=str(port),
        # No labels at all is enough here: what matters is that the slow cluster takes it.
        RETRAIN_MIN_LABELS_PER_CLASS="0",
    )
    stack.wait_for(lambda: healthy(port), timeout=120, what="the web server")
    kids = stack.wait_for(
        lambda: len(children(serve.pid)) == 3 and children(serve.pid),
        timeout=30,
        what="three processes",
    )
    started = sorted(describe(pid) for pid in kids)
    assert [cluster for cmd, cluster in started if "qcluster" in cmd] == ["", "slow"], started
    assert sum("runserver" in cmd and f"127.0.0.1:{port}" in cmd for cmd, _ in started) == 1

    # Queue a retrain as the dashboard does; only the slow cluster serves its queue.
    stack.manage(
        "shell",
        "-c",
        "from classifier.models import LabelSet; from moderation.learning.retrain import "
        "retrain_enqueue; retrain_enqueue(label_set=LabelSet.objects.get(name='sentiment'))",
        RETRAIN_MIN_LABELS_PER_CLASS="0",
    )

    def run_left_the_queue():
        rows = stack.query("SELECT status, error FROM moderation_retrainrun")
        return rows and rows[0][0] not in ("queued", "running") and rows[0]

    status, error = stack.wait_for(run_left_the_queue, timeout=180, what="the retrain to run")
    assert status == "failed" and error, error  # it ran: there are no labels to learn from

    os.kill(serve.pid, signal.SIGTERM)  # bin/serve alone, as Ctrl-C in `make run` would
    serve.wait(timeout=60)
    deadline = time.monotonic() + 30
    while any(live.pid_alive(pid) for pid in kids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in kids if live.pid_alive(pid)], "bin/serve left a process running"
