"""Retry only what failed or is stuck, only by its uploader or a moderator (web and API)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from classifier.models import Meme, ModelVersion
from classifier.tests.api.helpers import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(sentiment):
    return ModelVersion.objects.create(
        label_set=sentiment, version="sentiment-retry", artifact_path="/nowhere"
    )


@pytest.fixture
def mine(meme_factory, user):
    return meme_factory(uploader=user)


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def set_status(meme, status, **fields):
    Meme.objects.filter(pk=meme.pk).update(status=status, **fields)


def test_it_refuses_to_retry_a_classified_meme_on_the_web_and_the_api(
    user, mine, prediction_factory, version, django_capture_on_commit_callbacks
):
    prediction_factory(mine, version, {"positive": 0.3, "negative": 0.7})
    with django_capture_on_commit_callbacks() as callbacks:
        page = web(user).post(f"/memes/{mine.pk}/retry/")
        api = token_client(user).post(f"/api/v1/memes/{mine.pk}/retry/")
    assert page.status_code == 409
    assert "already classified" in page.content.decode()
    assert api.status_code == 409
    assert api.json()["error"] == "cannot_retry"
    assert "already classified" in api.json()["detail"]
    mine.refresh_from_db()
    assert mine.status == Meme.Status.CLASSIFIED and mine.predictions.count() == 1
    assert callbacks == []


def test_it_refuses_to_retry_a_meme_that_is_queued_and_not_stuck(user, mine):
    set_status(mine, Meme.Status.PENDING, queued_at=timezone.now())
    response = token_client(user).post(f"/api/v1/memes/{mine.pk}/retry/")
    assert response.status_code == 409
    assert "not stuck yet" in response.json()["detail"]


def test_it_retries_a_meme_stuck_processing_for_too_long(
    settings, user, mine, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - timedelta(seconds=settings.MEME_STALE_SECONDS + 5)
    set_status(mine, Meme.Status.PROCESSING, processing_started_at=long_ago)
    with django_capture_on_commit_callbacks() as callbacks:
        response = web(user).post(f"/memes/{mine.pk}/retry/")
    assert response.status_code == 302
    assert Meme.objects.get(pk=mine.pk).status == Meme.Status.PENDING
    assert len(callbacks) == 1


@pytest.mark.parametrize("who", ["uploader", "moderator"])
def test_the_uploader_or_a_moderator_retries_a_failed_meme_over_the_api(
    who, user, mine, django_user_model, django_capture_on_commit_callbacks
):
    moderator = django_user_model.objects.create_user("mod", password="x")
    moderator.groups.add(Group.objects.get(name="moderators"))
    set_status(mine, Meme.Status.FAILED, failure_reason="x (error O101).", failure_detail="d")
    client = token_client(user if who == "uploader" else moderator)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/api/v1/memes/{mine.pk}/retry/")
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "pending" and response.json()["failure_reason"] == ""
    mine.refresh_from_db()
    assert (mine.failure_reason, mine.failure_detail) == ("", "")
    assert len(callbacks) == 1


def test_another_user_cannot_retry_and_learns_nothing(django_user_model, mine):
    other = django_user_model.objects.create_user("mallory", password="x")
    set_status(mine, Meme.Status.FAILED)
    assert web(other).post(f"/memes/{mine.pk}/retry/").status_code == 404
    assert token_client(other).post(f"/api/v1/memes/{mine.pk}/retry/").status_code == 404
    assert Meme.objects.get(pk=mine.pk).status == Meme.Status.FAILED
