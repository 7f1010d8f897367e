"""The review queue: what is in it, in which order, with which filters."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from classifier.models import Meme
from moderation.selectors.queue import QueueFilters, queue_memes, queue_size
from moderation.services import correction_create
from moderation.tests.factories import make_meme, make_user, make_version, predicted_meme


def _ids(memes):
    return [m.pk for m in memes]


@pytest.fixture
def memes(version):
    """Four predicted memes with known margins, plus one that failed."""
    return {
        "sure_positive": predicted_meme(version, 0.05),  # margin 0.9
        "unsure": predicted_meme(version, 0.48),  # margin 0.04
        "sure_negative": predicted_meme(version, 0.97),  # margin 0.94
        "leaning_negative": predicted_meme(version, 0.7),  # margin 0.4
        "failed": make_meme(status=Meme.Status.FAILED),
    }


def test_it_orders_by_uncertainty_by_default(sentiment, memes):
    order = _ids(queue_memes(label_set=sentiment))
    names = {m.pk: name for name, m in memes.items()}
    assert [names[i] for i in order] == [
        "unsure",
        "leaning_negative",
        "sure_positive",
        "sure_negative",
        "failed",  # no prediction: nothing to be uncertain about, so last
    ]


def test_it_leaves_out_memes_a_human_decided(sentiment, memes, moderator):
    correction_create(
        meme=memes["unsure"], label_set=sentiment, moderator=moderator, new_label="negative"
    )
    correction_create(meme=memes["failed"], label_set=sentiment, moderator=moderator, unusable=True)
    assert memes["unsure"].pk not in _ids(queue_memes(label_set=sentiment))
    assert memes["failed"].pk not in _ids(queue_memes(label_set=sentiment))
    assert queue_size(label_set=sentiment) == 3


def test_it_orders_by_the_alert_class(sentiment, memes):
    order = _ids(queue_memes(label_set=sentiment, filters=QueueFilters(order="alert")))
    assert order[:4] == [
        memes[n].pk for n in ("sure_negative", "leaning_negative", "unsure", "sure_positive")
    ]


def test_it_orders_failed_first_and_newest_first(sentiment, memes):
    failed_first = _ids(queue_memes(label_set=sentiment, filters=QueueFilters(order="failed")))
    assert failed_first[0] == memes["failed"].pk
    assert failed_first[1] == memes["unsure"].pk
    newest = _ids(queue_memes(label_set=sentiment, filters=QueueFilters(order="newest")))
    assert newest == sorted(newest, reverse=True)


def test_it_filters_by_status_label_and_confidence(sentiment, memes):
    def ids(**filters):
        return set(_ids(queue_memes(label_set=sentiment, filters=QueueFilters(**filters))))

    assert ids(status="failed") == {memes["failed"].pk}
    assert ids(predicted_label="negative") == {
        memes["sure_negative"].pk,
        memes["leaning_negative"].pk,
    }
    assert ids(confidence_min=0.6, confidence_max=0.9) == {memes["leaning_negative"].pk}


def test_it_filters_by_uploader_and_date(sentiment, version):
    alice = make_user("alice")
    mine = predicted_meme(version, 0.4, uploader=alice)
    old = predicted_meme(version, 0.4)
    Meme.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    assert _ids(queue_memes(label_set=sentiment, filters=QueueFilters(uploader="alice"))) == [
        mine.pk
    ]
    since = timezone.localdate() - dt.timedelta(days=2)
    recent = _ids(queue_memes(label_set=sentiment, filters=QueueFilters(date_from=since)))
    assert mine.pk in recent and old.pk not in recent
    until = timezone.localdate() - dt.timedelta(days=5)
    assert _ids(queue_memes(label_set=sentiment, filters=QueueFilters(date_to=until))) == [old.pk]


def test_it_filters_by_the_model_version_of_the_latest_prediction(sentiment, version):
    older = predicted_meme(version, 0.4)
    newer_version = make_version(sentiment, "sentiment-test-v2")
    newer = predicted_meme(newer_version, 0.4)
    filtered = queue_memes(label_set=sentiment, filters=QueueFilters(model_version=version.pk))
    assert _ids(filtered) == [older.pk]
    assert newer.pk in _ids(queue_memes(label_set=sentiment))


def test_the_page_lists_filters_and_paginates(mod_client, sentiment, version, monkeypatch):
    monkeypatch.setattr("moderation.views.queue.QUEUE_PAGE_SIZE", 2)
    memes = [predicted_meme(version, p) for p in (0.1, 0.45, 0.3)]
    response = mod_client.get(reverse("moderation:queue"), {"label_set": "sentiment"})
    assert response.status_code == 200
    page = list(response.context["page"])
    assert _ids(page) == [memes[1].pk, memes[2].pk]
    assert response.context["page"].paginator.count == 3
    second = mod_client.get(reverse("moderation:queue"), {"label_set": "sentiment", "page": 2})
    assert _ids(second.context["page"]) == [memes[0].pk]
    filtered = mod_client.get(
        reverse("moderation:queue"),
        {"label_set": "sentiment", "order": "newest", "confidence_min": "0.6"},
    )
    assert _ids(filtered.context["page"]) == [memes[2].pk, memes[0].pk]
    assert b"Start reviewing" in filtered.content


def test_the_page_ignores_bad_filter_values(mod_client, version):
    meme = predicted_meme(version, 0.4)
    response = mod_client.get(
        reverse("moderation:queue"),
        {"label_set": "sentiment", "confidence_min": "lots", "order": "sideways"},
    )
    assert response.status_code == 200
    assert _ids(response.context["page"]) == [meme.pk]


def test_the_page_answers_404_for_an_unknown_label_set(mod_client, version):
    response = mod_client.get(reverse("moderation:queue"), {"label_set": "nope"})
    assert response.status_code == 404
