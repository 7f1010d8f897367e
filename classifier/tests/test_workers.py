"""Real django-q2 worker processes: two clusters on one queue, and a worker killed mid-task.

These start `manage.py qcluster` as subprocesses against a throw-away database (a new
PostgreSQL database when DATABASE_URL is one, else an SQLite file) and whichever broker
the environment names: Redis when REDIS_URL is set (the PostgreSQL + Redis pass of
.ci/run), else the database. Memes are stored through the upload service, so the task is
queued on commit exactly as for a real upload.
"""

import os
import signal
import time

import pytest

from bench import stack as live
from conftest import encode, render_meme

pytestmark = [pytest.mark.model, pytest.mark.live]

TIMEOUT = 240  # seconds; generous, the CI machine is shared


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # The same database server and broker as the test run itself, in their own database
    # and queue name.
    created = live.Stack.create(
        tmp_path_factory.mktemp("stack"),
        database_url=os.environ.get("DATABASE_URL", ""),
        redis_url=os.environ.get("REDIS_URL", ""),
        # One task waiting per cluster at most, so every cluster gets a share.
        Q_QUEUE_LIMIT="1",
    )
    yield created
    created.close()


def meme_files(tmp_path, n: int, first_seed: int) -> list:
    paths = []
    for seed in range(first_seed, first_seed + n):
        path = tmp_path / f"meme-{seed}.png"
        path.write_bytes(encode(render_meme(f"MEME {seed}", "FROM THE TEST", seed=seed)))
        paths.append(path)
    return paths


def wait_ready(stack, cluster, workers: int = 1):
    stack.wait_for(
        lambda: len(live.worker_pids(cluster)) >= workers,
        timeout=60,
        what=f"{cluster.log_path.name} to start",
    )


def test_two_clusters_on_one_queue_classify_every_meme_exactly_once(stack, tmp_path):
    first = stack.start_cluster("cluster-a")
    second = stack.start_cluster("cluster-b")
    wait_ready(stack, first)
    wait_ready(stack, second)

    ids = stack.upload_files(meme_files(tmp_path, 8, first_seed=100))

    def all_done():
        statuses = stack.meme_statuses()
        return all(statuses[i][0] in ("classified", "failed") for i in ids) and statuses

    statuses = stack.wait_for(all_done, timeout=TIMEOUT, what="every meme to be classified")
    assert {i: statuses[i][0] for i in ids} == dict.fromkeys(ids, "classified"), statuses
    assert {i: statuses[i][1] for i in ids} == dict.fromkeys(ids, 1)  # one run each
    # One prediction per meme and active model (sentiment and hateful since migration 0009).
    (models,) = stack.query("SELECT COUNT(*) FROM classifier_modelversion WHERE is_active")[0]
    assert models >= 2
    counts = stack.prediction_counts()
    assert {i: counts.get(i) for i in ids} == dict.fromkeys(ids, models)

    by_first, by_second = live.processed_task_names(first), live.processed_task_names(second)
    expected = {f"classify-meme-{i}" for i in ids}
    assert set(by_first) | set(by_second) == expected
    assert not set(by_first) & set(by_second), "a task ran in both clusters"
    assert len(by_first) + len(by_second) == len(ids), "a task ran twice"
    assert by_first and by_second, "one cluster took every task"
    stack.stop(first)
    stack.stop(second)


def test_a_meme_whose_worker_is_killed_mid_task_ends_classified(stack, tmp_path):
    # The sweep takes memes that have been processing for more than 2 seconds.
    cluster = stack.start_cluster("cluster-kill", MEME_STALE_SECONDS="2")
    wait_ready(stack, cluster)
    (worker,) = live.worker_pids(cluster)

    (meme_id,) = stack.upload_files(meme_files(tmp_path, 1, first_seed=200))
    # The first task of a fresh worker loads the model and the OCR engine: seconds of
    # `processing` to land the kill in.
    stack.wait_for(
        lambda: stack.meme_statuses()[meme_id][0] == "processing",
        timeout=TIMEOUT,
        interval=0.02,
        what="the worker to start the task",
    )
    processing_since = time.monotonic()  # at the latest
    os.kill(worker, signal.SIGKILL)
    status, attempts, _ = stack.meme_statuses()[meme_id]
    assert (status, attempts) == ("processing", 1), "the task finished before the kill"
    assert stack.prediction_counts().get(meme_id) is None

    # django-q2 replaces the dead worker; the meme stays `processing` until the sweep.
    stack.wait_for(
        lambda: len(live.worker_pids(cluster)) == 2,
        timeout=60,
        what="django-q2 to start a new worker",
    )
    # Stale after 2 s: wait out what is left of them (django-q2's restart took some already).
    time.sleep(max(0.0, processing_since + 2.5 - time.monotonic()))
    out = stack.manage("sweep_stale_memes", MEME_STALE_SECONDS="2")
    assert "Re-queued 1 stale meme(s)." in out

    stack.wait_for(
        lambda: stack.meme_statuses()[meme_id][0] == "classified",
        timeout=TIMEOUT,
        what="the re-queued meme to be classified",
    )
    assert stack.meme_statuses()[meme_id][1] == 2
    (models,) = stack.query("SELECT COUNT(*) FROM classifier_modelversion WHERE is_active")[0]
    assert stack.prediction_counts()[meme_id] == models  # one run's predictions, not two
    stack.stop(cluster)
