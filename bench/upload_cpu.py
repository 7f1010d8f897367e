"""CPU time of one API upload in the web process, for this tree and another in the same run.

Each tree is measured in its own child process: a throw-away SQLite database (or a new
PostgreSQL database with --postgres URL), migrated; one token user; then distinct generated
500x500 JPEG memes POSTed one at a time to /api/v1/memes/ through Django's test client, the
whole request (middleware, validation, normalising, the file, the row, the on-commit
enqueue on the django-q2 ORM broker, or Redis with --redis URL) in this one process, timed
with the process's CPU clock. No worker runs: only the web side of an upload is measured.

    .venv/bin/python -m bench.upload_cpu --n 200
    .venv/bin/python -m bench.upload_cpu --n 200 --other /tmp/before   # e.g. a `git archive`
    .venv/bin/python -m bench.upload_cpu --n 200 --postgres postgres://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def child(n: int) -> dict:
    import django

    django.setup()
    import cProfile
    import pstats

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from bench.api_upload import make_memes

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password=secrets.token_urlsafe(12))
    token = Token.objects.create(user=user).key
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    memes = make_memes(n + 5, (500, 500), seed=7)

    def post(index: int) -> float:
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile(f"m{index}.jpg", memes[index], content_type="image/jpeg")
        start = time.process_time()
        response = client.post("/api/v1/memes/", {"image": upload, "text": "so true"})
        seconds = time.process_time() - start
        if response.status_code != 202:
            raise SystemExit(f"upload {index}: {response.status_code} {response.content[:300]}")
        return seconds

    for index in range(5):  # warm-up: imports, first queries
        post(index)
    cpu = [post(index) for index in range(5, n + 5)]
    profile = cProfile.Profile()
    more = make_memes(20, (500, 500), seed=8)
    memes.extend(more)
    profile.enable()
    for index in range(n + 5, n + 25):
        post(index)
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt
    # The functions that matter for the upload path, with their cumulative share.
    # cProfile slows everything down several times, so shares, not milliseconds, are kept.
    watched = {}
    for (path, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
        label = f"{Path(path).parent.name}/{Path(path).name}:{name}"
        if name in {
            "meme_create",
            "async_task",
            "close_old_connections",
            "meme_cluster_assign",
            "image_hashes_or_none",
            "normalise_upload",
            "enqueue",
            "save",
            "create",
            "render",
            "initial",
            "perform_authentication",
        }:
            watched[label] = max(watched.get(label, 0.0), cumulative / total)
    from django.db import connection

    return {
        "vendor": connection.vendor,
        "n": n,
        "cpu_ms_p50": float(np.percentile(cpu, 50) * 1000),
        "cpu_ms_mean": float(np.mean(cpu) * 1000),
        "cpu_ms_p95": float(np.percentile(cpu, 95) * 1000),
        "profile_share": dict(sorted(watched.items(), key=lambda item: -item[1])[:12]),
    }


def measure(root: Path, n: int, args) -> dict:
    with tempfile.TemporaryDirectory(prefix="upload-cpu-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "Q_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="memesense_site.settings",
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(40),
            ALLOWED_HOSTS="testserver",
            VAR_DIR=f"{tmp}/var",
            MEDIA_ROOT=f"{tmp}/media",
            ML_MODEL_ROOT=f"{tmp}/var/models",
            LOG_LEVEL="WARNING",
            API_THROTTLE_UPLOADS="100000000/min",
            API_THROTTLE_DEFAULT="100000000/min",
            Q_SYNC="0",
            PYTHONPATH=str(root),
        )
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        database = None
        if args.postgres:
            import psycopg

            database = f"upload_cpu_{secrets.token_hex(4)}"
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {database}")
            env["DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + f"/{database}"
        if args.redis:
            env["REDIS_URL"] = args.redis
        try:
            result = subprocess.run(
                [sys.executable, "-c", f"import bench.upload_cpu as b; b.main_child({n})"],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
            )
        finally:
            if database:
                import psycopg

                with psycopg.connect(args.postgres, autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        if result.returncode != 0:
            raise SystemExit(f"{root}: {result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])


def main_child(n: int) -> None:
    print(json.dumps(child(n)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--other", type=Path, help="another tree to measure in the same run")
    parser.add_argument("--postgres", help="a PostgreSQL URL to create throw-away databases in")
    parser.add_argument("--redis", help="a Redis URL for the broker (default: the ORM broker)")
    args = parser.parse_args()
    trees = [("this tree", ROOT)] + ([("other", args.other)] if args.other else [])
    print(f"load average {os.getloadavg()[0]:.1f} at start")
    for label, root in trees:
        if label == "other":
            # bench.upload_cpu itself comes from this tree; the app from the other one.
            (root / "bench" / "upload_cpu.py").write_bytes(Path(__file__).read_bytes())
        figures = measure(root, args.n, args)
        print(
            f"{label} ({root}, {figures['vendor']}): CPU per upload p50 "
            f"{figures['cpu_ms_p50']:.1f} ms, mean {figures['cpu_ms_mean']:.1f} ms, "
            f"p95 {figures['cpu_ms_p95']:.1f} ms over {figures['n']} uploads"
        )
        for name, share in figures["profile_share"].items():
            print(f"    {name}: {100 * share:.0f}% of an upload's time under cProfile")
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
