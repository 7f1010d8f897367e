"""GET /api/v1/memes/ and /api/v1/memes/{id}/: what a meme shows, pagination, filters, order."""

import datetime as dt

import pytest
from django.utils import timezone

from classifier.models import Meme
from classifier.tests.api.helpers import error_of
from moderation.services import correction_create

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [meme["id"] for meme in response.json()["results"]]


@pytest.fixture
def meme_factory(meme_factory, user):
    """These tests read as the plain user, so the memes are theirs (an uploader sees only
    their own memes: test_visibility.py)."""

    def make(*args, **kwargs):
        kwargs.setdefault("uploader", user)
        return meme_factory(*args, **kwargs)

    return make


@pytest.fixture
def three(meme_factory, prediction_factory, active_model, moderator, sentiment):
    """Three classified memes: sure negative, unsure positive, sure positive (human: negative)."""
    sure_neg = meme_factory(top="SURE NEG")
    unsure_pos = meme_factory(top="UNSURE POS")
    sure_pos = meme_factory(top="SURE POS")
    prediction_factory(sure_neg, active_model, {"positive": 0.05, "negative": 0.95})
    prediction_factory(unsure_pos, active_model, {"positive": 0.55, "negative": 0.45})
    prediction_factory(sure_pos, active_model, {"positive": 0.9, "negative": 0.1})
    correction_create(meme=sure_pos, label_set=sentiment, moderator=moderator, new_label="negative")
    return sure_neg, unsure_pos, sure_pos


def test_the_detail_shows_status_texts_predictions_and_human_labels(
    user_client, three, active_model, moderator, sentiment
):
    sure_pos = three[2]
    Meme.objects.filter(pk=sure_pos.pk).update(ocr_text="WHEN IT WORKS", caption="so true")
    correction_create(
        meme=sure_pos,
        label_set=sentiment,
        moderator=moderator,
        new_label="negative",
        new_text="WHEN IT FINALLY WORKS",
        check_stale=False,
    )

    response = user_client.get(f"/api/v1/memes/{sure_pos.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "classified"
    assert body["ocr_text"] == "WHEN IT WORKS"
    assert body["caption"] == "so true"
    assert body["text"] == "WHEN IT FINALLY WORKS"
    assert body["failure_reason"] == ""
    (prediction,) = body["predictions"]
    assert prediction["label"] == "positive"
    assert prediction["probabilities"] == {"positive": 0.9, "negative": 0.1}
    assert prediction["confidence"] == pytest.approx(0.9)
    assert prediction["margin"] == pytest.approx(0.8)
    assert prediction["model_version"] == active_model.version
    (human,) = body["human_labels"]
    assert human["label_set"] == "sentiment"
    assert human["label"] == "negative"
    assert human["moderator"] is None  # moderators' names are for moderators only
    assert human["correction_id"] == sure_pos.corrections.order_by("-id").first().pk
    assert body["image_url"].startswith("http://testserver/media/memes/")
    assert body["page_url"] == f"http://testserver/memes/{sure_pos.pk}/"
    for stamp in ("created_at", "updated_at", "queued_at"):
        assert body[stamp]


def test_the_detail_shows_why_a_meme_failed(user_client, meme_factory):
    meme = meme_factory()
    Meme.objects.filter(pk=meme.pk).update(
        status="failed",
        failure_reason="The text in the picture could not be read (error O101).",
        failure_detail="OCR failed: /usr/bin/tesseract: boom",
    )
    body = user_client.get(f"/api/v1/memes/{meme.pk}/").json()
    assert body["status"] == "failed"
    assert body["failure_reason"] == "The text in the picture could not be read (error O101)."
    assert "failure_detail" not in body and "/usr/bin" not in str(body)
    assert body["predictions"] == []


def test_the_detail_answers_404_for_an_unknown_meme(user_client):
    response = user_client.get("/api/v1/memes/424242/")
    assert response.status_code == 404
    assert error_of(response)["error"] == "not_found"


def test_the_list_is_newest_first_and_paginated(user_client, meme_factory):
    memes = [meme_factory() for _ in range(5)]
    newest_first = [m.pk for m in reversed(memes)]

    first = user_client.get("/api/v1/memes/?page_size=2")
    body = first.json()
    assert body["count"] == 5
    assert ids(first) == newest_first[:2]
    assert body["previous"] is None
    assert "page=2" in body["next"]
    assert ids(user_client.get("/api/v1/memes/?page_size=2&page=3")) == newest_first[4:]

    past_the_end = user_client.get("/api/v1/memes/?page_size=2&page=4")
    assert past_the_end.status_code == 404
    assert error_of(past_the_end)["error"] == "not_found"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=201", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=", "page_size"),
        ("page_size=ten", "page_size"),
        ("page=0", "page"),
        ("page=", "page"),
        ("page=two", "page"),
        ("page=last", "page"),
    ],
)
def test_the_list_refuses_a_malformed_page_or_page_size(user_client, meme_factory, query, field):
    meme_factory()
    response = user_client.get(f"/api/v1/memes/?{query}")
    assert response.status_code == 400
    assert error_of(response)["field"] == field


def test_the_list_filters_by_status(user_client, three, meme_factory):
    pending = meme_factory()
    assert ids(user_client.get("/api/v1/memes/?status=pending")) == [pending.pk]
    assert len(ids(user_client.get("/api/v1/memes/?status=classified"))) == 3


def test_the_list_filters_by_predicted_and_human_label(user_client, three):
    sure_neg, unsure_pos, sure_pos = three
    predicted_positive = ids(user_client.get("/api/v1/memes/?predicted_label=positive"))
    assert sorted(predicted_positive) == sorted([unsure_pos.pk, sure_pos.pk])
    assert ids(user_client.get("/api/v1/memes/?human_label=negative")) == [sure_pos.pk]
    assert ids(user_client.get("/api/v1/memes/?human_label=positive")) == []


def test_the_list_filters_by_unusable(user_client, three, moderator, sentiment):
    sure_neg = three[0]
    correction_create(meme=sure_neg, label_set=sentiment, moderator=moderator, unusable=True)
    assert ids(user_client.get("/api/v1/memes/?human_label=unusable")) == [sure_neg.pk]


def test_the_list_filters_by_confidence_range(user_client, three):
    sure_neg, unsure_pos, sure_pos = three
    response = user_client.get("/api/v1/memes/?confidence_min=0.5&confidence_max=0.6")
    assert ids(response) == [unsure_pos.pk]
    response = user_client.get("/api/v1/memes/?confidence_min=0.9&ordering=created")
    assert ids(response) == [sure_neg.pk, sure_pos.pk]


def test_the_list_filters_by_label_set(user_client, three, meme_factory, sentiment):
    meme_factory()  # no prediction, no human label
    assert len(ids(user_client.get("/api/v1/memes/"))) == 4
    assert len(ids(user_client.get("/api/v1/memes/?label_set=sentiment"))) == 3


def test_the_list_filters_by_date_range(user_client, meme_factory):
    old, new = meme_factory(), meme_factory()
    Meme.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    cutoff = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert ids(user_client.get("/api/v1/memes/", {"created_after": cutoff})) == [new.pk]
    assert ids(user_client.get("/api/v1/memes/", {"created_before": cutoff})) == [old.pk]
    day = (timezone.now() - dt.timedelta(days=10)).date().isoformat()
    assert ids(user_client.get("/api/v1/memes/", {"created_after": day})) == [new.pk, old.pk]


def test_the_list_orders_by_uncertainty_and_creation(user_client, three, meme_factory):
    sure_neg, unsure_pos, sure_pos = three
    unclassified = meme_factory()
    most_uncertain_first = ids(user_client.get("/api/v1/memes/?ordering=-uncertainty"))
    assert most_uncertain_first == [unsure_pos.pk, sure_pos.pk, sure_neg.pk, unclassified.pk]
    most_certain_first = ids(user_client.get("/api/v1/memes/?ordering=uncertainty"))
    assert most_certain_first == [sure_neg.pk, sure_pos.pk, unsure_pos.pk, unclassified.pk]
    oldest_first = ids(user_client.get("/api/v1/memes/?ordering=created"))
    assert oldest_first == [sure_neg.pk, unsure_pos.pk, sure_pos.pk, unclassified.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=done", "status"),
        ("label_set=nope", "label_set"),
        ("predicted_label=happy", "predicted_label"),
        ("human_label=happy", "human_label"),
        ("confidence_min=high", "confidence_min"),
        ("confidence_min=1.5", "confidence_min"),
        ("confidence_max=nan", "confidence_max"),
        ("confidence_min=0.9&confidence_max=0.1", "confidence_min"),
        ("created_after=yesterday", "created_after"),
        ("status=", "status"),
        ("ordering=random", "ordering"),
    ],
)
def test_the_list_names_the_bad_query_parameter(user_client, sentiment, query, field):
    response = user_client.get(f"/api/v1/memes/?{query}")
    assert response.status_code == 400
    body = error_of(response)
    assert body["error"] == "invalid"
    assert body["field"] == field


def test_the_list_takes_the_same_queries_for_5_or_20_automatically_decided_memes(
    user_client, meme_factory, prediction_factory, active_model
):
    """Every meme predicted and automatically decided: one query per prediction (the old
    N+1 on auto_decision) would make 20 memes cost 15 queries more than 5."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from classifier.models import AutoDecision

    def add(n: int) -> None:
        for _ in range(n):
            meme = meme_factory(size=(96, 72))
            prediction = prediction_factory(
                meme, active_model, {"positive": 0.97, "negative": 0.03}
            )
            AutoDecision.objects.create(prediction=prediction, threshold=0.95)

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            body = user_client.get("/api/v1/memes/?page_size=50").json()
        assert all(m["predictions"][0]["auto_decision"] for m in body["results"]), body
        return len(captured), body["count"]

    add(5)
    few, count = queries()
    assert count == 5
    add(15)
    many, count = queries()
    assert count == 20
    assert many == few, f"{few} queries for 5 memes, {many} for 20"
    assert many <= 10


def test_it_renders_a_meme_detail_without_a_query_once_the_selectors_fetched_it(
    moderator, meme_factory, prediction_factory, active_model, sentiment, django_assert_num_queries
):
    """Serializers shape data and never query: the selectors prefetch and compute the rest."""
    from classifier.api import selectors, serializers
    from moderation.services import correction_create

    meme = meme_factory()
    prediction_factory(meme, active_model, {"positive": 0.9, "negative": 0.1})
    correction_create(
        meme=meme,
        label_set=sentiment,
        moderator=moderator,
        new_label="negative",
        new_text="FIXED TEXT",
        check_stale=False,
    )
    meme = selectors.meme_get(meme_id=meme.pk, user=moderator)
    context = selectors.meme_detail_context(user=moderator, meme=meme)

    with django_assert_num_queries(0):
        body = serializers.MemeDetailSerializer(meme, context=context).data

    assert body["text"] == "FIXED TEXT"
    assert [h["label"] for h in body["human_labels"]] == ["negative"]
    assert body["human_labels"][0]["moderator"] is None  # no request: rendered for nobody
    assert body["predictions"][0]["label"] == "positive"
    assert "suggested_labels" in body and "repost_cluster" in body
