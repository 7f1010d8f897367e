"""Retrain runs never stick: an atomic claim, one open run per label set, and the sweep."""

import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_q.models import Schedule, Task

from classifier.models import LabelSet
from moderation.learning.retrain import (
    RetrainBusy,
    retrain_enqueue,
    retrain_run_claim,
    retrain_run_create,
    retrain_runs_sweep,
)
from moderation.models import RetrainRun
from moderation.tasks import retrain_label_set


def _age(run, *, created=None, started=None):
    """Move a run's timestamps into the past, as if its worker had been gone that long."""
    now = timezone.now()
    fields = {}
    if created is not None:
        fields["created_at"] = now - timedelta(seconds=created)
    if started is not None:
        fields["started_at"] = now - timedelta(seconds=started)
    RetrainRun.objects.filter(pk=run.pk).update(**fields)


# SQLite's in-memory test database (shared cache) answers a second writer "table is locked" at
# once instead of making it wait, so a race of two threads there measures the test set-up, not
# the service. CI's second pass runs these on PostgreSQL, where the race is real.
REAL_RACE = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="a real write race needs PostgreSQL (CI pass 2)"
)


def _threads(target, n=2):
    """Run `target` in n threads released together; return their results."""
    barrier, results = threading.Barrier(n), []

    def body():
        barrier.wait()
        try:
            results.append(target())
        finally:
            connection.close()

    threads = [threading.Thread(target=body) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


# --- The claim ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_claims_a_queued_run_once(sentiment):
    run = retrain_run_create(label_set=sentiment)
    assert retrain_run_claim(run=run) is True
    assert retrain_run_claim(run=RetrainRun.objects.get(pk=run.pk)) is False
    run.refresh_from_db()
    assert run.status == RetrainRun.Status.RUNNING and run.started_at is not None


@pytest.mark.django_db
def test_it_leaves_a_run_delivered_twice_to_the_worker_that_has_it(sentiment):
    run = retrain_run_create(label_set=sentiment)
    assert retrain_run_claim(run=run)
    started = RetrainRun.objects.get(pk=run.pk).started_at
    # The second delivery of the same task: it returns at once, changing nothing.
    assert retrain_label_set(run.pk) == RetrainRun.Status.RUNNING
    run.refresh_from_db()
    assert run.status == RetrainRun.Status.RUNNING and run.started_at == started
    assert run.error == "" and run.finished_at is None


@REAL_RACE
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_lets_one_of_two_concurrent_workers_claim_the_run(sentiment):
    run = retrain_run_create(label_set=sentiment)
    results = _threads(lambda: retrain_run_claim(run=RetrainRun.objects.get(pk=run.pk)))
    assert sorted(results) == [False, True]


@pytest.mark.django_db
def test_it_does_not_run_a_run_that_already_ended(sentiment):
    run = retrain_run_create(label_set=sentiment)
    RetrainRun.objects.filter(pk=run.pk).update(status=RetrainRun.Status.FAILED, error="swept")
    assert retrain_label_set(run.pk) == RetrainRun.Status.FAILED
    assert RetrainRun.objects.get(pk=run.pk).error == "swept"


# --- One run at a time per label set --------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_a_second_open_run_of_a_label_set(sentiment):
    first = retrain_run_create(label_set=sentiment)
    with pytest.raises(RetrainBusy, match=rf"already queued \(run #{first.pk}\)"):
        retrain_run_create(label_set=sentiment)
    retrain_run_claim(run=first)
    with pytest.raises(RetrainBusy, match="already running"):
        retrain_run_create(label_set=sentiment, trigger="dashboard")
    RetrainRun.objects.filter(pk=first.pk).update(status=RetrainRun.Status.SUCCEEDED)
    assert retrain_run_create(label_set=sentiment).status == RetrainRun.Status.QUEUED


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_run_written_past_the_service(sentiment):
    RetrainRun.objects.create(label_set=sentiment)
    with pytest.raises(IntegrityError), transaction.atomic():
        RetrainRun.objects.create(label_set=sentiment, status=RetrainRun.Status.RUNNING)


@REAL_RACE
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_of_two_concurrent_requests_one_creates_the_run_and_one_is_told(sentiment):
    def create():
        try:
            return retrain_run_create(label_set=sentiment).pk
        except RetrainBusy as exc:
            return str(exc)

    results = _threads(create)
    assert RetrainRun.objects.count() == 1
    run = RetrainRun.objects.get()
    assert sorted(results, key=str) == sorted(
        [
            run.pk,
            f"A retrain of sentiment is already queued (run #{run.pk}): one run at a time "
            "per label set.",
        ],
        key=str,
    )


@pytest.mark.django_db
def test_the_dashboard_says_a_run_is_already_open(mod_client, sentiment, version, settings):
    settings.RETRAIN_MIN_LABELS_PER_CLASS = 0
    run = retrain_run_create(label_set=sentiment)
    response = mod_client.post(f"/moderation/retrain/?label_set={sentiment.name}", follow=True)
    assert f"already queued (run #{run.pk})" in response.content.decode()
    assert RetrainRun.objects.count() == 1


@pytest.mark.django_db
def test_the_command_refuses_while_a_dashboard_run_is_open(sentiment, settings):
    settings.RETRAIN_MIN_LABELS_PER_CLASS = 0
    run = retrain_run_create(label_set=sentiment, trigger="dashboard")
    with pytest.raises(CommandError, match=rf"already queued \(run #{run.pk}\)"):
        call_command("retrain", "--label-set", "sentiment", verbosity=0)
    assert RetrainRun.objects.count() == 1


@pytest.mark.django_db
def test_the_dashboard_says_a_queued_run_waits_for_the_slow_worker(mod_client, sentiment, version):
    retrain_run_create(label_set=sentiment, trigger="dashboard")
    page = mod_client.get(f"/moderation/?label_set={sentiment.name}").content.decode()
    assert "Queued: waiting for the slow worker" in page


@pytest.mark.django_db
def test_the_enqueue_service_records_the_task_it_queued(
    sentiment, settings, django_capture_on_commit_callbacks
):
    settings.RETRAIN_MIN_LABELS_PER_CLASS = 0
    with django_capture_on_commit_callbacks(execute=True):
        run = retrain_enqueue(label_set=sentiment)
    run.refresh_from_db()
    # Q_SYNC runs the task inside async_task: it ran (and failed: no labels at all).
    assert run.task_id and Task.objects.filter(id=run.task_id).exists()
    assert run.status == RetrainRun.Status.FAILED


# --- The sweep --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweep_fails_a_run_whose_worker_died(sentiment, settings):
    run = retrain_run_create(label_set=sentiment)
    retrain_run_claim(run=run)
    _age(run, started=settings.RETRAIN_RUNNING_SECONDS + 60)
    assert retrain_runs_sweep() == 1
    run.refresh_from_db()
    assert run.status == RetrainRun.Status.FAILED and run.finished_at is not None
    assert run.error.startswith("its worker stopped: still running 66 minutes after it started")


@pytest.mark.django_db
def test_the_sweep_fails_a_run_that_was_never_queued(sentiment, settings):
    run = retrain_run_create(label_set=sentiment)  # no task id: the broker never took it
    _age(run, created=settings.RETRAIN_QUEUED_SECONDS + 1)
    assert retrain_runs_sweep() == 1
    run.refresh_from_db()
    assert run.status == RetrainRun.Status.FAILED
    assert run.error == "it was never handed to a worker: queueing its task failed"
    # The label set is free again.
    assert retrain_run_create(label_set=sentiment).status == RetrainRun.Status.QUEUED


@pytest.mark.django_db
def test_the_sweep_fails_a_queued_run_no_slow_worker_took(sentiment, settings):
    run = retrain_run_create(label_set=sentiment)
    RetrainRun.objects.filter(pk=run.pk).update(task_id="0" * 32)
    _age(run, created=settings.RETRAIN_QUEUED_SECONDS + 1)
    assert retrain_runs_sweep() == 1
    run.refresh_from_db()
    assert "is `Q_CLUSTER_NAME=slow manage.py qcluster` running?" in run.error


@pytest.mark.django_db
def test_the_sweep_fails_at_once_a_queued_run_whose_task_ended(sentiment):
    run = retrain_run_create(label_set=sentiment)
    now = timezone.now()
    task = Task.objects.create(
        id="f" * 32,
        name=f"retrain-{run.pk}",
        func="moderation.tasks.retrain_label_set",
        started=now,
        stopped=now,
        success=False,
        result="OperationalError: server closed",
    )
    RetrainRun.objects.filter(pk=run.pk).update(task_id=task.id)
    assert retrain_runs_sweep() == 1
    run.refresh_from_db()
    assert run.error == "its task ended without starting the run: OperationalError: server closed"


@pytest.mark.django_db
def test_the_sweep_leaves_live_runs_alone(sentiment, settings):
    offensive = LabelSet.objects.create(name="offensive", classes=["offensive", "fine"])
    queued = retrain_run_create(label_set=sentiment)
    running = retrain_run_create(label_set=offensive)
    retrain_run_claim(run=running)
    _age(queued, created=settings.RETRAIN_QUEUED_SECONDS - 60)
    _age(running, started=settings.RETRAIN_RUNNING_SECONDS - 60)
    assert retrain_runs_sweep() == 0
    assert {r.status for r in RetrainRun.objects.all()} == {"queued", "running"}


@pytest.mark.django_db
def test_the_sweep_command_says_how_many_it_failed(sentiment, settings, capsys):
    run = retrain_run_create(label_set=sentiment)
    _age(run, created=settings.RETRAIN_QUEUED_SECONDS + 1)
    call_command("sweep_retrain_runs")
    assert "Marked 1 stuck retrain run(s) failed." in capsys.readouterr().out


@pytest.mark.django_db
def test_a_migration_schedules_the_sweep_on_the_default_cluster(settings):
    schedule = Schedule.objects.get(func="moderation.tasks.sweep_retrain_runs")
    assert schedule.schedule_type == Schedule.MINUTES
    assert schedule.minutes == settings.RETRAIN_SWEEP_MINUTES and schedule.repeats == -1
    assert schedule.cluster is None  # the default cluster's scheduler, always running
