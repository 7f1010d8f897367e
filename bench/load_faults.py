"""Load and fault runs: uploads through gunicorn, PostgreSQL, Redis and two django-q2 workers.

Starts its own PostgreSQL server and Redis server on private ports (so restarting them
disturbs nobody else's), a throw-away database in it, gunicorn (gunicorn.conf.py) and two
`manage.py qcluster` processes with one worker each, all on 127.0.0.1. Client threads
upload distinct real memes (religious_hateful by default, `--dataset memotion` for the
128 px ones) to POST /api/v1/memes/ with a token; a refused upload
(503 while the database restarts, a dropped connection) is retried, as a client would.

Runs, each bounded in count and time, with its own memes:
  load      N uploads from C concurrent clients, no fault
  kill      kill -9 a worker in the middle of the run
  redis     stop Redis in the middle of the run, start it again 15 s later
  postgres  restart PostgreSQL in the middle of the run (down for 5 s)
  ocr       tesseract missing from the workers' PATH for the first half, then put back
  model     the active model's file damaged for the first half, then repaired
After each: every upload stored once, every meme classified (memes that failed during an
OCR or model fault are retried after the fix, as the retry button does), none lost, one
prediction per meme. Figures: accept latency p50/p95, uploads accepted/s, memes
classified/s, the per-meme cost and the throughput limit it implies, peak RSS per worker.

    .venv/bin/python -m bench.load_faults                     # load (500) + every fault (100)
    .venv/bin/python -m bench.load_faults --n 40 --fault-n 12 --runs load kill
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import stack as live

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# Real, platform-sized memes by default (issue 13): religious_hateful's are up to 800 px.
IMAGES = {
    "religious_hateful": DATA / "religious_hateful" / "images",
    "memotion": DATA / "memotion_7k" / "images",
}
PG_PORT, REDIS_PORT, WEB_PORT = 55432, 56379, 58080
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), Path("/usr/bin"))
WARM_UP = 6  # uploads before the measured runs
RUNS = ("load", "kill", "redis", "postgres", "ocr", "model")

CREATE_TOKEN = (
    "from django.contrib.auth import get_user_model;"
    "from rest_framework.authtoken.models import Token;"
    "u, _ = get_user_model().objects.get_or_create(username='bench');"
    "print(Token.objects.get_or_create(user=u)[0].key)"
)
RETRY_FAILED = (
    "from classifier import services; from classifier.models import Meme;"
    "ids = {ids!r};"
    "failed = list(Meme.objects.filter(pk__in=ids, status='failed'));"
    "[services.meme_request_classification(meme=m) for m in failed];"
    "print(len(failed))"
)
ACTIVATE_COPY = (
    "from classifier import services; from classifier.models import LabelSet;"
    "print(services.model_version_register(label_set=LabelSet.objects.get(name='sentiment'),"
    " version='sentiment-bench-copy', artifact_path={path!r}, activate=True).pk)"
)


# --- Private servers ------------------------------------------------------------------------


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class Postgres:
    """A PostgreSQL server of our own in a temporary folder (trust auth, 127.0.0.1 only)."""

    def __init__(self, root: Path, port: int):
        self.root, self.port, self.data = root, port, root / "pgdata"
        self.url = f"postgres://postgres@127.0.0.1:{port}/postgres"

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"]
            ),
            check=True,
            capture_output=True,
        )
        self.start()

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                 "-o", options, "-w", *args]
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")


class Redis:
    """A Redis server of our own (no persistence, 127.0.0.1 only)."""

    def __init__(self, root: Path, port: int):
        self.root, self.port = root, port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.root)],
            stdout=open(self.root / "redis.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while (
            subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            ).stdout.strip()
            != "PONG"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


# --- Uploads ----------------------------------------------------------------------------


def pick_images(folder: Path, count: int, skip: int, seed: int = 0) -> list[Path]:
    """Return `count` distinct images of `folder` Memesense accepts (validated up front)."""
    from classifier.validation import InvalidImage, normalise_upload

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    random.Random(seed).shuffle(files)
    chosen, seen = [], set()
    for path in files:
        if len(chosen) == skip + count:
            break
        if path.stat().st_size > 3_000_000:
            continue
        data = path.read_bytes()
        try:
            image = normalise_upload(data, path.name)
        except InvalidImage:
            continue
        if image.sha256 not in seen:
            seen.add(image.sha256)
            chosen.append(path)
    if len(chosen) < skip + count:
        raise SystemExit(f"only {len(chosen)} usable images in {folder}")
    return chosen[skip:]


@dataclass
class Upload:
    path: Path
    meme_id: int | None = None
    status: int = 0
    latency: float = 0.0  # seconds, of the request that was accepted
    accepted_at: float = 0.0
    refusals: dict[str, int] = field(default_factory=dict)


def upload_all(
    images: list[Path], clients: int, token: str, deadline: float, on_progress
) -> list[Upload]:
    """Upload every image from `clients` threads; retry refusals until `deadline`."""
    uploads = [Upload(path) for path in images]
    next_index = iter(range(len(uploads)))
    lock = threading.Lock()
    accepted = [0]

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=60)
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                break
            item = uploads[index]
            kind = "image/png" if item.path.suffix.lower() == ".png" else "image/jpeg"
            body, content_type = live.multipart_body(item.path.name, item.path.read_bytes(), kind)
            headers = {"Authorization": f"Token {token}", "Content-Type": content_type}
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    conn.request("POST", "/api/v1/memes/", body=body, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    reason = type(exc).__name__
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=60)
                else:
                    if response.status in (200, 201, 202):
                        item.status = response.status
                        item.latency = time.perf_counter() - started
                        item.accepted_at = time.monotonic()
                        item.meme_id = json.loads(payload)["id"]
                        with lock:
                            accepted[0] += 1
                            on_progress(accepted[0])
                        break
                    reason = str(response.status)
                item.refusals[reason] = item.refusals.get(reason, 0) + 1
                time.sleep(1.0)  # as a client would after a 503 (Retry-After) or a reset
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic()))
    return uploads


# --- One run ----------------------------------------------------------------------------


@dataclass
class Deployment:
    stack: live.Stack
    postgres: Postgres
    redis: Redis
    token: str = ""
    clusters: list = field(default_factory=list)
    peak_rss_kb: dict[int, int] = field(default_factory=dict)
    cluster_env: dict[str, str] = field(default_factory=dict)

    def start_clusters(self, **env: str) -> None:
        self.cluster_env = env
        for name in ("worker-a", "worker-b"):
            self.clusters.append(self.stack.start_cluster(name, workers=1, **env))
        for cluster in self.clusters:
            self.stack.wait_for(lambda c=cluster: live.worker_pids(c), timeout=120, what="qcluster")

    def stop_clusters(self) -> None:
        self.sample_rss()
        for cluster in self.clusters:
            self.stack.stop(cluster)
        self.clusters = []

    def worker_pids(self) -> list[int]:
        return [pid for c in self.clusters for pid in live.worker_pids(c) if live.pid_alive(pid)]

    def sample_rss(self) -> None:
        for pid in self.worker_pids():
            self.peak_rss_kb[pid] = max(self.peak_rss_kb.get(pid, 0), live.rss_kb(pid))


def run_one(dep: Deployment, kind: str, images: list[Path], args) -> dict:
    stack = dep.stack
    fault_log: list[str] = []
    started = time.monotonic()
    deadline = started + args.run_timeout
    triggered = threading.Event()

    def at(count: int) -> bool:
        return count >= max(1, int(len(images) * 0.3)) and not triggered.is_set()

    def fault(count: int) -> None:
        if kind == "kill" and at(count):
            triggered.set()
            busy = stack.query("SELECT id FROM classifier_meme WHERE status='processing'")
            pid = dep.worker_pids()[0]
            os.kill(pid, signal.SIGKILL)
            fault_log.append(f"kill -9 worker pid {pid} while memes {sorted(r[0] for r in busy)}"
                             " were processing")  # fmt: skip
        elif kind in ("redis", "postgres") and at(count):
            triggered.set()
            threading.Thread(target=outage, daemon=True).start()

    def outage() -> None:
        server, down = (dep.redis, 15) if kind == "redis" else (dep.postgres, 5)
        server.stop()
        fault_log.append(f"{kind} stopped at {time.monotonic() - started:.1f}s")
        time.sleep(down)
        server.start()
        fault_log.append(f"{kind} started again at {time.monotonic() - started:.1f}s")

    shim = stack.workdir / "shim"
    model_dir = stack.workdir / "model-copy"
    good_head = b""

    def fix() -> None:
        if kind == "ocr":
            (shim / "tesseract").symlink_to(shutil.which("tesseract", path="/usr/bin"))
        else:
            (model_dir / "head.onnx").write_bytes(good_head)
        fault_log.append(f"{kind} fixed at {time.monotonic() - started:.1f}s")

    if kind == "ocr":
        # The workers find binaries only through the shim folder, which lacks tesseract.
        shim.mkdir(exist_ok=True)
        dep.stop_clusters()
        dep.start_clusters(
            MEMESENSE_OCR_ENGINE="tesseract", PATH=f"{shim}:{Path(sys.executable).parent}"
        )
    elif kind == "model":
        shutil.copytree(live.BASE_DIR / "ml" / "shipped" / "sentiment", model_dir)
        good_head = (model_dir / "head.onnx").read_bytes()
        (model_dir / "head.onnx").write_bytes(good_head[: len(good_head) // 3])
        stack.manage("shell", "-c", ACTIVATE_COPY.format(path=str(model_dir)))

    first_id = stack.query("SELECT COALESCE(MAX(id), 0) FROM classifier_meme")[0][0]

    def fix_after_failures() -> None:
        # Repair once a quarter of the run has failed: the rest is classified normally.
        def failures() -> int:
            sql = "SELECT COUNT(*) FROM classifier_meme WHERE id > %s AND status = 'failed'"
            return stack.query(sql, (first_id,))[0][0]

        try:
            stack.wait_for(lambda: failures() >= max(1, len(images) // 4), timeout=300,
                           interval=0.5, what="failures")  # fmt: skip
        except TimeoutError:
            fault_log.append("no failures seen before the fix")
        fix()

    if kind in ("ocr", "model"):
        threading.Thread(target=fix_after_failures, daemon=True).start()

    sampler_stop = threading.Event()

    def sampler() -> None:
        while not sampler_stop.wait(2.0):
            dep.sample_rss()

    threading.Thread(target=sampler, daemon=True).start()
    t0 = time.monotonic()
    uploads = upload_all(images, args.clients, dep.token, deadline, fault)
    accept_seconds = max((u.accepted_at for u in uploads if u.meme_id), default=t0) - t0
    ids = [u.meme_id for u in uploads if u.meme_id]

    def settled() -> bool:
        statuses = stack.meme_statuses()
        return all(statuses.get(i, ("?",))[0] in ("classified", "failed") for i in ids)

    retried = 0
    failure_reasons: dict[str, int] = {}
    try:
        stack.wait_for(settled, timeout=max(1, deadline - time.monotonic()), interval=1,
                       what="every meme to settle")  # fmt: skip
        if kind in ("ocr", "model"):
            for status, _, reason in stack.meme_statuses().values():
                if status == "failed":
                    key = reason[:110]
                    failure_reasons[key] = failure_reasons.get(key, 0) + 1
            retried = int(stack.manage("shell", "-c", RETRY_FAILED.format(ids=ids)).split()[-1])
            stack.wait_for(settled, timeout=max(1, deadline - time.monotonic()), interval=1,
                           what="the retried memes")  # fmt: skip
    except TimeoutError as exc:
        fault_log.append(f"TIMEOUT: {exc}")
    classify_end = time.monotonic()
    sampler_stop.set()
    dep.sample_rss()

    statuses = stack.meme_statuses()
    batch = {i: statuses.get(i) for i in ids}
    counts = stack.prediction_counts()
    # Every active label set's model classifies every meme (both shipped models by default).
    models = stack.query("SELECT COUNT(*) FROM classifier_modelversion WHERE is_active")[0][0]
    sha_rows = stack.query(
        "SELECT COUNT(*), COUNT(DISTINCT sha256) FROM classifier_meme WHERE id = ANY(%s)",
        (ids,),
    )
    timings = stack.query(
        "SELECT EXTRACT(EPOCH FROM finished_at - processing_started_at),"
        " EXTRACT(EPOCH FROM finished_at) FROM classifier_meme"
        " WHERE id = ANY(%s) AND status = 'classified'",
        (ids,),
    )
    # Task rows are kept for every delivery (Q_SAVE_LIMIT=0): more than one per meme means
    # the sweep queued it again while a copy was still waiting, or a worker died on it.
    deliveries = stack.query(
        "SELECT COUNT(*) FROM django_q_task WHERE name = ANY(%s)",
        ([f"classify-meme-{i}" for i in ids],),
    )[0][0]
    skipped = deliveries - len(ids)
    model_ms = stack.query(
        "SELECT AVG(duration_ms) FROM classifier_prediction WHERE meme_id = ANY(%s)", (ids,)
    )[0][0]
    per_meme = [float(t[0]) for t in timings]
    finished = sorted(float(t[1]) for t in timings)
    latencies = sorted(u.latency * 1000 for u in uploads if u.meme_id)
    refusals: dict[str, int] = {}
    for u in uploads:
        for reason, n in u.refusals.items():
            refusals[reason] = refusals.get(reason, 0) + n
    classified = sum(1 for s in batch.values() if s and s[0] == "classified")
    mean_cost = statistics.fmean(per_meme) if per_meme else 0.0
    span = finished[-1] - finished[0] if len(finished) > 1 else 0.0
    result = {
        "run": kind,
        "uploads": len(images),
        "accepted": len(ids),
        "stored_rows": sha_rows[0][0],
        "distinct_images": sha_rows[0][1],
        "classified": classified,
        "not_classified": {i: s for i, s in batch.items() if not s or s[0] != "classified"},
        "active_models": models,
        "one_prediction_per_model_each": all(counts.get(i) == models for i in ids),
        "memes_with_2+_runs": sum(1 for s in batch.values() if s and s[1] > 1),
        "extra_task_deliveries": skipped,
        "answered_200_already_stored": sum(1 for u in uploads if u.status == 200),
        "refused_then_retried": refusals,
        "failed_before_fix": failure_reasons,
        "retried_after_fix": retried,
        "accept_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "accept_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1)
        if latencies
        else None,
        "accepted_per_s": round(len(ids) / accept_seconds, 1) if accept_seconds else None,
        "classified_per_s": round((len(finished) - 1) / span, 2) if span else None,
        "end_to_end_s": round(classify_end - t0, 1),
        "per_meme_cost_s": round(mean_cost, 3),
        "model_ms_mean": round(float(model_ms), 1) if model_ms is not None else None,
        "limit_per_s_2_workers": round(2 / mean_cost, 2) if mean_cost else None,
        "events": fault_log,
    }
    result["ok"] = (
        result["accepted"] == len(images)
        and result["stored_rows"] == result["distinct_images"] == len(images)
        and classified == len(images)
        and result["one_prediction_per_model_each"]
    )
    if kind == "ocr":
        dep.stop_clusters()
        dep.start_clusters()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="uploads in the load run")
    parser.add_argument("--fault-n", type=int, default=100, help="uploads in each fault run")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--dataset", choices=sorted(IMAGES), default="religious_hateful")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS))
    parser.add_argument("--run-timeout", type=float, default=900, help="seconds per run")
    parser.add_argument(
        "--stale-seconds", type=int, default=45, help="MEME_STALE_SECONDS for the workers"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memesense_site.settings")
    os.environ.setdefault("SECRET_KEY", live.SECRET_KEY)
    import django

    django.setup()
    sizes = {run: args.n if run == "load" else args.fault_n for run in args.runs}
    print(
        f"Choosing {sum(sizes.values())} distinct images from {IMAGES[args.dataset]} ...",
        flush=True,
    )
    pool = pick_images(IMAGES[args.dataset], WARM_UP + sum(sizes.values()), skip=0)

    root = Path(tempfile.mkdtemp(prefix="memesense-load-"))
    root.chmod(0o755)  # the postgres user runs the private server inside it
    postgres, redis = Postgres(root / "pg", PG_PORT), Redis(root / "redis", REDIS_PORT)
    dep = None
    results = []
    try:
        postgres.init()
        redis.start()
        stack = live.Stack.create(
            root / "stack",
            database_url=postgres.url,
            redis_url=redis.url,
            MEME_STALE_SECONDS=str(args.stale_seconds),
            MEME_SWEEP_MINUTES="1",
            Q_SAVE_LIMIT="0",
            API_THROTTLE_UPLOADS="1000000/min",
            API_THROTTLE_DEFAULT="1000000/min",
            CONN_MAX_AGE="60",
        )
        dep = Deployment(stack, postgres, redis)
        dep.token = stack.manage("shell", "-c", CREATE_TOKEN).strip().splitlines()[-1]
        web = stack.start_gunicorn(WEB_PORT, workers=args.web_workers)
        stack.wait_for(lambda: _healthy(), timeout=60, what="gunicorn /healthz")
        dep.start_clusters()
        # Warm up: each worker loads the model and the OCR engine on its first task, each
        # web process its imports on its first request; none of that is measured.
        warm = pool[:WARM_UP]
        until = time.monotonic() + 300
        warm_ids = [u.meme_id for u in upload_all(warm, WARM_UP, dep.token, until, print)]
        stack.wait_for(
            lambda: all(stack.meme_statuses()[i][0] == "classified" for i in warm_ids),
            timeout=600, what="the warm-up memes",
        )  # fmt: skip
        offset = len(warm)
        for run in args.runs:
            images = pool[offset : offset + sizes[run]]
            offset += sizes[run]
            print(f"--- {run}: {len(images)} uploads, {args.clients} clients", flush=True)
            result = run_one(dep, run, images, args)
            results.append(result)
            print(json.dumps(result, indent=1, default=str), flush=True)
        result_rss = {str(pid): kb for pid, kb in sorted(dep.peak_rss_kb.items())}
        summary = {"peak_rss_kb_per_worker_process": result_rss, "runs": results}
        if args.json:
            args.json.write_text(json.dumps(summary, indent=1, default=str))
        print("peak RSS per worker process (MiB):",
              {pid: round(kb / 1024) for pid, kb in result_rss.items()})  # fmt: skip
        stack.stop(web)
    finally:
        if dep is not None:
            dep.stop_clusters()
            dep.stack.close()
        redis.stop()
        with contextlib.suppress(subprocess.CalledProcessError):
            postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
    bad = [r["run"] for r in results if not r["ok"]]
    print("ALL RUNS OK" if not bad else f"FAILED RUNS: {bad}")
    return 1 if bad else 0


def _healthy() -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=2)
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
