"""Too few labels to retrain: every door refuses with the same sentence, nothing is queued."""

import subprocess

import pytest
from django.core.management import CommandError, call_command

from bench import stack as live
from moderation.learning.readiness import retrain_blocker
from moderation.learning.retrain import (
    RetrainError,
    retrain_enqueue,
    retrain_run_create,
    retrain_run_execute,
)
from moderation.models import RetrainRun
from moderation.services import correction_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_per_class(settings):
    settings.RETRAIN_MIN_LABELS_PER_CLASS = 3
    return settings


def test_it_says_how_many_labels_of_each_class_are_missing_by_default(sentiment):
    assert retrain_blocker(label_set=sentiment) == (
        "Cannot retrain sentiment yet: it needs at least 20 human labels of each class, "
        "so 20 more “positive” labels (has 0) and 20 more “negative” labels (has 0)."
    )


def test_it_names_only_the_short_class(sentiment, three_per_class, label_memes):
    label_memes(sentiment, {"positive": 3, "negative": 2})
    assert retrain_blocker(label_set=sentiment) == (
        "Cannot retrain sentiment yet: it needs at least 3 human labels of each class, "
        "so 1 more “negative” label (has 2)."
    )
    label_memes(sentiment, {"negative": 1})
    assert retrain_blocker(label_set=sentiment) is None


def test_it_counts_standing_labels_only(sentiment, three_per_class, label_memes, moderator):
    memes = label_memes(sentiment, {"positive": 3, "negative": 3})
    # A relabel moves a meme to the other class; an unusable mark takes it out.
    correction_create(
        meme=memes[0],
        label_set=sentiment,
        moderator=moderator,
        new_label="negative",
        seen_correction_id=memes[0].corrections.get().pk,
    )
    correction_create(
        meme=memes[1],
        label_set=sentiment,
        moderator=moderator,
        unusable=True,
        seen_correction_id=memes[1].corrections.get().pk,
    )
    assert "2 more “positive” labels (has 1)" in retrain_blocker(label_set=sentiment)


def test_the_command_refuses_with_the_sentence_and_records_nothing(sentiment):
    with pytest.raises(CommandError) as exc:
        call_command("retrain", "--label-set", "sentiment", verbosity=0)
    assert str(exc.value) == retrain_blocker(label_set=sentiment)
    assert not RetrainRun.objects.exists()


@pytest.mark.live
def test_the_command_exits_non_zero_with_the_sentence_and_no_traceback(tmp_path):
    # A real `manage.py retrain` process on a throw-away, freshly migrated SQLite database.
    stack = live.Stack.create(tmp_path / "stack")
    try:
        result = subprocess.run(
            [live.PYTHON, "manage.py", "retrain", "--label-set", "sentiment"],
            cwd=live.BASE_DIR,
            env=stack.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        runs = stack.query("SELECT COUNT(*) FROM moderation_retrainrun")
    finally:
        stack.close()
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "CommandError: Cannot retrain sentiment yet: it needs at least 20 human labels of each "
        "class, so 20 more “positive” labels (has 0) and 20 more “negative” labels (has 0)."
    )
    assert "Traceback" not in result.stderr + result.stdout
    assert runs == [(0,)]


def test_the_enqueue_service_refuses_and_queues_nothing(
    sentiment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RetrainError) as exc:
        retrain_enqueue(label_set=sentiment)
    assert str(exc.value) == retrain_blocker(label_set=sentiment)
    assert callbacks == [] and not RetrainRun.objects.exists()


def test_the_dashboard_shows_the_sentence_and_disables_the_button(mod_client, sentiment, version):
    page = mod_client.get(f"/moderation/?label_set={sentiment.name}").content.decode()
    sentence = retrain_blocker(label_set=sentiment)
    assert f'<p id="retrain-blocker"><strong>{sentence}</strong></p>' in page
    assert '<button type="submit" id="retrain-button" disabled>' in page


def test_the_dashboard_enables_the_button_once_there_are_enough_labels(
    mod_client, sentiment, version, three_per_class, label_memes
):
    label_memes(sentiment, {"positive": 3, "negative": 3})
    page = mod_client.get(f"/moderation/?label_set={sentiment.name}").content.decode()
    assert 'id="retrain-blocker"' not in page
    assert '<button type="submit" id="retrain-button">' in page


def test_a_post_that_bypasses_the_button_gets_the_sentence(mod_client, sentiment, version):
    response = mod_client.post(f"/moderation/retrain/?label_set={sentiment.name}", follow=True)
    assert retrain_blocker(label_set=sentiment) in response.content.decode()
    assert not RetrainRun.objects.exists()


def test_a_queued_run_whose_labels_were_withdrawn_fails_with_the_sentence(
    sentiment, three_per_class, label_memes, moderator
):
    memes = label_memes(sentiment, {"positive": 3, "negative": 3})
    run = retrain_run_create(label_set=sentiment, trigger="dashboard")
    correction_create(
        meme=memes[-1],
        label_set=sentiment,
        moderator=moderator,
        unusable=True,
        seen_correction_id=memes[-1].corrections.get().pk,
    )
    run = retrain_run_execute(run=run)
    assert run.status == RetrainRun.Status.FAILED
    assert run.error == retrain_blocker(label_set=sentiment)
    assert "1 more “negative” label (has 2)" in run.error
