"""The suite runs on pytest-xdist workers (make test): each has its own Redis db and metrics."""

import os

import pytest

from conftest import REDIS_URL_GIVEN, SLOWEST_FILES, _redis_url_for_worker


def test_it_gives_each_worker_the_next_redis_database():
    assert _redis_url_for_worker("redis://127.0.0.1:6379/5", "gw0") == "redis://127.0.0.1:6379/5"
    assert _redis_url_for_worker("redis://127.0.0.1:6379/5", "gw1") == "redis://127.0.0.1:6379/6"
    assert _redis_url_for_worker("redis://:pw@redis:6379", "gw2") == "redis://:pw@redis:6379/2"


def test_every_file_xdist_starts_first_is_there(pytestconfig):
    # A renamed or deleted file would silently fall back to xdist's ordinary place.
    root = pytestconfig.rootpath
    assert [path for path in SLOWEST_FILES if not (root / path).is_file()] == []


@pytest.fixture
def worker() -> str:
    if "PYTEST_XDIST_WORKER" not in os.environ:
        pytest.skip("only under pytest -n (make test, .ci/run)")
    return os.environ["PYTEST_XDIST_WORKER"]


def test_this_worker_talks_to_its_own_redis_database(worker):
    from django.conf import settings

    if not REDIS_URL_GIVEN:
        pytest.skip("only with REDIS_URL (CI's PostgreSQL + Redis pass)")
    assert settings.Q_CLUSTER["redis"] == _redis_url_for_worker(REDIS_URL_GIVEN, worker)


def test_this_worker_writes_its_metric_samples_to_its_own_directory(worker):
    from django.conf import settings

    assert f"-{worker}-" in settings.METRICS_DIR.name
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(settings.METRICS_DIR)
