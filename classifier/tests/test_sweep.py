"""The sweep that re-queues memes whose worker died or whose task was lost."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from classifier.models import Meme

pytestmark = pytest.mark.django_db


def age(meme, status, seconds, **fields):
    then = timezone.now() - timedelta(seconds=seconds)
    Meme.objects.filter(pk=meme.pk).update(
        status=status, processing_started_at=then, queued_at=then, **fields
    )


def test_it_requeues_a_meme_stuck_processing(
    settings, meme_factory, capsys, django_capture_on_commit_callbacks
):
    meme = meme_factory()
    age(meme, Meme.Status.PROCESSING, settings.MEME_STALE_SECONDS + 60, attempts=1)
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("sweep_stale_memes")
    assert "Re-queued 1 stale meme(s)." in capsys.readouterr().out
    meme.refresh_from_db()
    assert meme.status == Meme.Status.PENDING
    assert meme.attempts == 1
    assert len(callbacks) == 1


def test_it_requeues_a_pending_meme_whose_task_was_lost(
    settings, meme_factory, django_capture_on_commit_callbacks
):
    meme = meme_factory()
    age(meme, Meme.Status.PENDING, settings.MEME_STALE_SECONDS + 60)
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("sweep_stale_memes")
    assert len(callbacks) == 1


def test_it_leaves_recent_and_finished_memes_alone(
    settings, meme_factory, capsys, django_capture_on_commit_callbacks
):
    old = settings.MEME_STALE_SECONDS + 60
    age(meme_factory(), Meme.Status.PROCESSING, 10)
    age(meme_factory(), Meme.Status.PENDING, 10)
    age(meme_factory(), Meme.Status.CLASSIFIED, old)
    age(meme_factory(), Meme.Status.FAILED, old)
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("sweep_stale_memes")
    assert "Re-queued 0 stale meme(s)." in capsys.readouterr().out
    assert callbacks == []


def test_a_requeued_meme_whose_worker_died_ends_classified_or_failed(
    settings, meme_factory, django_capture_on_commit_callbacks
):
    # Whatever the model situation, the meme must leave `processing` for good.
    meme = meme_factory()
    age(meme, Meme.Status.PROCESSING, settings.MEME_STALE_SECONDS + 60, attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sweep_stale_memes")
    meme.refresh_from_db()
    assert meme.status in (Meme.Status.CLASSIFIED, Meme.Status.FAILED)
    assert meme.attempts == 2


def test_the_sweep_runs_on_a_schedule(settings):
    schedule = Schedule.objects.get(func="classifier.tasks.sweep_stale_memes")
    assert schedule.schedule_type == Schedule.MINUTES
    assert schedule.minutes == settings.MEME_SWEEP_MINUTES
    assert schedule.repeats == -1
