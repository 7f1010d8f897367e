"""Upload acceptance through the REST API under concurrent clients, against gunicorn.

Starts, on 127.0.0.1 only, a throw-away deployment: a temporary database (SQLite by default,
or --database-url) and media folder, gunicorn with the repository's gunicorn.conf.py, and
optionally one django-q2 worker (`manage.py qcluster`). Then N client threads POST distinct
generated memes to /api/v1/memes/ with a token, either as fast as the server answers
(--rate 0) or paced to an offered total rate, for a bounded count and time. Reports the
accept latency (p50/p95/p99), uploads accepted per second and, with a worker, the time until
every accepted meme is classified, and the CPU time per request of gunicorn (all its
processes), of this client and of the whole machine (/proc). Everything it started is
stopped at the end.

    .venv/bin/python -m bench.api_upload --clients 20 --uploads 1500 --rate 0 --no-worker
    .venv/bin/python -m bench.api_upload --clients 20 --uploads 600 --rate 150 --worker
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import requests
from PIL import Image, ImageDraw, ImageFont

from bench.stack import multipart_body

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
WORDS = "WHEN THE TESTS PASS FIRST TIME MONDAY COFFEE DEPLOY FRIDAY NOBODY CAT ME".split()  # noqa: SIM905


# --- Inputs -----------------------------------------------------------------------------


def make_memes(n: int, size: tuple[int, int], seed: int = 0) -> list[bytes]:
    """n distinct JPEG memes: a smooth random background with a two-line caption."""
    rng = random.Random(seed)
    font = ImageFont.truetype(FONT, size[1] // 10) if os.path.exists(FONT) else None
    memes = []
    for i in range(n):
        small = Image.new("RGB", (4, 3))
        small.putdata([tuple(rng.randrange(30, 225) for _ in range(3)) for _ in range(12)])
        image = small.resize(size, Image.Resampling.BICUBIC)
        draw = ImageDraw.Draw(image)
        for y, count in ((size[1] // 20, 3), (size[1] * 3 // 4, 2)):
            text = " ".join(rng.choice(WORDS) for _ in range(count))
            draw.text((10, y), text, fill="white", stroke_width=2, stroke_fill="black", font=font)
        draw.text((size[0] - 60, size[1] - 20), f"#{i}", fill="white", font=font)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85)
        memes.append(out.getvalue())
    return memes


# --- The deployment ---------------------------------------------------------------------


@contextlib.contextmanager
def temporary_postgres_database(server_url: str):
    """Create a throw-away database on a local PostgreSQL server; drop it afterwards."""
    import psycopg

    name = f"memesense_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(tmp: Path, database_url: str | None, args) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "Q_"))}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1",
        VAR_DIR=str(tmp / "var"),
        MEDIA_ROOT=str(tmp / "media"),
        ML_MODEL_ROOT=str(tmp / "var" / "models"),
        LOG_LEVEL="WARNING",
        # The benchmark measures capacity, so no throttle may cut it short.
        API_THROTTLE_UPLOADS="100000000/min",
        API_THROTTLE_DEFAULT="100000000/min",
        Q_WORKERS=str(args.q_workers),
        Q_SYNC="0",
        GUNICORN_ACCESS_LOG="",
        WEB_CONCURRENCY=str(args.web_workers),
        GUNICORN_THREADS=str(args.threads),
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def manage(env: dict, *argv: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *argv], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(argv)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


CREATE_TOKEN = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
user, _ = User.objects.get_or_create(username="bench")
print(Token.objects.get_or_create(user=user)[0].key)
"""


def start_gunicorn(env: dict, port: int, log: Path) -> subprocess.Popen:
    argv = [str(Path(PYTHON).with_name("gunicorn"))]
    if (ROOT / "gunicorn.conf.py").exists():
        argv += ["--config", "gunicorn.conf.py"]
    else:
        threads = env["GUNICORN_THREADS"]
        argv += ["--worker-class", "gthread", "--workers", env["WEB_CONCURRENCY"]]
        argv += ["--threads", threads]
    argv += ["--bind", f"127.0.0.1:{port}", "memesense_site.wsgi"]
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen | None) -> None:
    """Stop a process we started, and its children (its own process group)."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_until_up(base: str, headers: dict, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/v1/label-sets/", headers=headers, timeout=10).ok:
                return
        except requests.RequestException:
            pass  # not listening yet, or still importing Django
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer in time")


# --- The load ---------------------------------------------------------------------------


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    meme_ids: list[int] = field(default_factory=list)
    errors: int = 0
    first_send: float = float("inf")
    last_answer: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_clients(base: str, headers: dict, memes: list[bytes], args) -> Outcome:
    outcome = Outcome()
    next_index = iter(range(len(memes)))
    index_lock = threading.Lock()
    start = time.perf_counter() + 0.5
    stop_at = start + args.duration
    interval = args.clients / args.rate if args.rate else 0.0

    # The client shares the two cores with the server, so it costs as little as it can:
    # bodies encoded before the clock starts, one kept-alive http.client connection per
    # client. With requests building each multipart body, the client process used as much
    # CPU as each gunicorn process (docs/benchmarks.md).
    bodies = [multipart_body(f"meme-{i}.jpg", data, "image/jpeg") for i, data in enumerate(memes)]
    address = urlsplit(base)

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        sent = 0
        while True:
            with index_lock:
                i = next(next_index, None)
            if i is None:
                break
            if interval:
                # Open loop: this client's k-th upload is due at start + (k + offset) * interval.
                due = start + (sent + number / args.clients) * interval
                time.sleep(max(0.0, due - time.perf_counter()))
            else:
                time.sleep(max(0.0, start - time.perf_counter()))
            began = time.perf_counter()
            if began > stop_at:
                break
            body, content_type = bodies[i]
            try:
                connection.request(
                    "POST",
                    "/api/v1/memes/",
                    body=body,
                    headers={**headers, "Content-Type": content_type},
                )
                response = connection.getresponse()
                payload = response.read()
                status = response.status
                meme_id = json.loads(payload).get("id") if status in (200, 202) else None
            except (OSError, http.client.HTTPException, ValueError):
                status, meme_id = 0, None
                connection.close()  # reconnects on the next request
            ended = time.perf_counter()
            sent += 1
            with outcome.lock:
                outcome.first_send = min(outcome.first_send, began)
                outcome.last_answer = max(outcome.last_answer, ended)
                outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
                if status == 202:
                    outcome.latencies.append(ended - began)
                    outcome.meme_ids.append(meme_id)
                elif status == 0:
                    outcome.errors += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def wait_until_classified(base: str, headers: dict, expected: int, timeout: float) -> dict:
    """Poll the API until no meme is pending or processing; return the counts seen."""
    began = time.perf_counter()
    counts: dict[str, int] = {}
    while True:
        for status in ("pending", "processing", "classified", "failed"):
            response = requests.get(
                f"{base}/api/v1/memes/",
                params={"status": status, "page_size": 1},
                headers=headers,
                timeout=30,
            )
            counts[status] = response.json()["count"]
        done = counts["classified"] + counts["failed"]
        if done >= expected and counts["pending"] + counts["processing"] == 0:
            counts["seconds"] = time.perf_counter() - began
            return counts
        if time.perf_counter() - began > timeout:
            counts["seconds"] = None
            return counts
        time.sleep(1.0)


_TICK = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(group: int) -> float:
    """CPU seconds used by the processes of a process group (gunicorn's master and its
    workers), counting the workers it has already replaced (reaped: the master's cutime)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        # After the command: state, ppid, pgrp, ..., utime (14), stime, cutime, cstime.
        if int(fields[2]) == group:
            total += sum(int(v) for v in fields[11:15]) / _TICK
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all cores were busy since boot (/proc/stat), for the whole machine's
    cost of an upload: the server, the client, the database server."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / _TICK


def percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    a = np.asarray(values) * 1000
    return {f"p{q}_ms": round(float(np.percentile(a, q)), 1) for q in (50, 95, 99)} | {
        "max_ms": round(float(a.max()), 1)
    }


# --- Main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--uploads", type=int, default=1000, help="at most this many")
    parser.add_argument("--duration", type=float, default=20.0, help="at most this long (s)")
    parser.add_argument("--rate", type=float, default=0.0, help="offered uploads/s; 0: closed loop")
    parser.add_argument("--size", default="500x500", help="meme size, WxH")
    parser.add_argument("--worker", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--q-workers", type=int, default=2, help="processes in the qcluster")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per process")
    parser.add_argument("--classify-timeout", type=float, default=900.0)
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        nargs="?",
        const="postgres://postgres@127.0.0.1:5432/postgres",
        help="use a temporary database on this local PostgreSQL server "
        "(default: a temporary SQLite file)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    args = parser.parse_args()

    width, height = (int(v) for v in args.size.split("x"))
    memes = make_memes(args.uploads, (width, height))
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-api-")))
        database_url = None
        if args.postgres:
            database_url = stack.enter_context(temporary_postgres_database(args.postgres))
        env = environment(tmp, database_url, args)
        manage(env, "migrate", "--noinput", "-v", "0")
        token = manage(env, "shell", "-c", CREATE_TOKEN).strip().splitlines()[-1]
        headers = {"Authorization": f"Token {token}"}
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        web = worker = None
        try:
            web = start_gunicorn(env, port, tmp / "gunicorn.log")
            wait_until_up(base, headers, timeout=120)
            # Warm every gunicorn process (imports, first connection) before timing.
            for _ in range(4 * args.web_workers):
                requests.get(f"{base}/api/v1/label-sets/", headers=headers, timeout=30)
            if args.worker:
                worker = start_worker(env, tmp / "qcluster.log")
            cpu_before = (group_cpu_seconds(web.pid), time.process_time(), machine_busy_seconds())
            outcome = run_clients(base, headers, memes, args)
            cpu_after = (group_cpu_seconds(web.pid), time.process_time(), machine_busy_seconds())
            accepted = len(outcome.latencies)
            elapsed = outcome.last_answer - outcome.first_send
            answered = sum(outcome.statuses.values())
            # Per answered request, over the whole run (warm-up excluded, idle tails included).
            web_cpu, client_cpu, machine_cpu = (
                round(1000 * (after - before) / answered, 2) if answered else None
                for before, after in zip(cpu_before, cpu_after, strict=True)
            )
            report = {
                "clients": args.clients,
                "offered_rate": args.rate or "closed loop",
                "meme_bytes_mean": round(sum(map(len, memes)) / len(memes)),
                "size": args.size,
                "gunicorn": f"{args.web_workers} workers x {args.threads} threads (gthread)",
                "database": "postgresql" if database_url else "sqlite",
                "worker": f"qcluster, {args.q_workers} processes" if args.worker else "none",
                "accepted": accepted,
                "statuses": outcome.statuses,
                "seconds": round(elapsed, 2),
                "accepted_per_s": round(accepted / elapsed, 1) if elapsed > 0 else None,
                "accept_latency": percentiles(outcome.latencies),
                "cpu_ms_per_request": {
                    "web": web_cpu,
                    "client": client_cpu,
                    "machine": machine_cpu,
                },
            }
            if args.worker and accepted:
                after_load = wait_until_classified(
                    base, headers, accepted, timeout=args.classify_timeout
                )
                since_first = time.perf_counter() - outcome.first_send
                report["classification"] = {
                    **{k: v for k, v in after_load.items() if k != "seconds"},
                    "seconds_after_last_upload": (
                        round(after_load["seconds"], 1) if after_load["seconds"] else None
                    ),
                    "seconds_since_first_upload": (
                        round(since_first, 1) if after_load["seconds"] else None
                    ),
                }
        finally:
            stop(worker)
            stop(web)
        print(json.dumps(report, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
