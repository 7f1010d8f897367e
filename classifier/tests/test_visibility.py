"""Who sees which meme, on every surface (docs/security.md, "Who sees what").

An uploader sees only their own memes; moderators and staff see all; an API token acts as
its user; moderators' names are for moderators; a blind second review stays blind until
both decisions exist; not yours answers exactly like not found.
"""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.test import APIClient

from classifier.models import Meme
from classifier.tests.api.helpers import token_client
from classifier.tests.photos import captioned, crop, jpeg, sample_photos
from classifier.validation import normalise_upload
from moderation.services import correction_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def mallory(django_user_model):
    return django_user_model.objects.create_user("mallory", password="pw-12345!")


@pytest.fixture
def moderator(django_user_model):
    user = django_user_model.objects.create_user("mod", password="pw-12345!")
    user.groups.add(Group.objects.get(name="moderators"))
    return user


@pytest.fixture
def second_moderator(django_user_model):
    user = django_user_model.objects.create_user("mod2", password="pw-12345!")
    user.groups.add(Group.objects.get(name="moderators"))
    return user


@pytest.fixture
def alices(meme_factory, user):
    return meme_factory(top="ALICE SECRET", caption="alice's caption", uploader=user)


@pytest.fixture
def mallorys(meme_factory, mallory):
    return meme_factory(top="MALLORY MEME", caption="mallory's caption", uploader=mallory)


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Pages ---------------------------------------------------------------------------------


def test_it_shows_an_uploader_only_their_own_recent_memes(user, mallory, alices, mallorys):
    page = web(mallory).get("/").content.decode()
    assert f"/memes/{mallorys.pk}/" in page and mallorys.image.url in page
    assert f"/memes/{alices.pk}/" not in page and alices.image.url not in page


def test_it_shows_moderators_and_staff_every_recent_meme(
    moderator, django_user_model, alices, mallorys
):
    staff = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    for who in (moderator, staff):
        page = web(who).get("/").content.decode()
        assert f"/memes/{alices.pk}/" in page and f"/memes/{mallorys.pk}/" in page


def _unmasked(page: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", page)


def test_another_users_meme_page_answers_exactly_like_a_missing_one(mallory, alices):
    client = web(mallory)
    theirs = client.get(f"/memes/{alices.pk}/")
    missing = client.get("/memes/424242/")
    assert theirs.status_code == missing.status_code == 404
    # Byte for byte, but for the log-out form's CSRF token, which is masked anew each time.
    assert _unmasked(theirs.content) == _unmasked(missing.content)
    assert b"alice" not in theirs.content.lower()


def test_moderators_open_any_meme_page_with_its_uploader(moderator, alices):
    page = web(moderator).get(f"/memes/{alices.pk}/").content.decode()
    assert "alice&#x27;s caption" in page and "by alice" in page


def test_another_users_meme_file_is_not_served(user, mallory, moderator, alices):
    assert web(mallory).get(alices.image.url).status_code == 404
    response = web(user).get(alices.image.url)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert web(moderator).get(alices.image.url).status_code == 200
    assert Client().get(alices.image.url).status_code == 404  # anonymous


def test_an_uploader_sees_only_their_own_reposts_and_no_suggestions(
    user, mallory, moderator, sentiment, active_model
):
    from classifier import services

    original = captioned(sample_photos()["china"], "WHEN IT WORKS", "FIRST TIME")
    theirs, _ = services.meme_create(image=normalise_upload(jpeg(original), "a.jpg"), uploader=user)
    services.meme_classify(meme_id=theirs.pk)  # the task puts a meme in its repost cluster
    correction_create(meme=theirs, label_set=sentiment, moderator=moderator, new_label="negative")
    repost = jpeg(crop(original, 0.02), quality=50)
    mine, _ = services.meme_create(image=normalise_upload(repost, "b.jpg"), uploader=mallory)
    services.meme_classify(meme_id=mine.pk)

    page = web(mallory).get(f"/memes/{mine.pk}/").content.decode()
    assert 'id="reposts"' not in page and f"/memes/{theirs.pk}/" not in page
    assert "Suggested" not in page
    body = token_client(mallory).get(f"/api/v1/memes/{mine.pk}/").json()
    assert body["repost_cluster"]["reposts"] == 0 and body["repost_cluster"]["meme_ids"] == []
    assert body["suggested_labels"] == []
    # A moderator sees the cluster and the suggestion.
    page = web(moderator).get(f"/memes/{mine.pk}/").content.decode()
    assert f"/memes/{theirs.pk}/" in page and "Suggested sentiment label" in page


def test_an_anonymous_visitor_sees_the_memes_of_their_own_session_only(
    settings, meme_image, upload_file, alices, django_capture_on_commit_callbacks
):
    settings.ALLOW_ANONYMOUS_UPLOAD = True
    visitor, stranger = Client(), Client()
    with django_capture_on_commit_callbacks():
        response = visitor.post("/upload/", {"image": upload_file(meme_image(seed=77))})
    assert response.status_code == 302
    meme = Meme.objects.get(uploader__isnull=True)
    assert visitor.get(response["Location"]).status_code == 200
    assert visitor.get(meme.image.url).status_code == 200
    assert f"/memes/{meme.pk}/" in visitor.get("/").content.decode()
    assert stranger.get(f"/memes/{meme.pk}/").status_code == 404
    assert stranger.get(meme.image.url).status_code == 404
    assert visitor.get(f"/memes/{alices.pk}/").status_code == 404


def test_uploading_someone_elses_exact_bytes_does_not_open_their_meme(
    mallory, alices, upload_file, meme_image
):
    data = alices.image.read()
    response = web(mallory).post("/upload/", {"image": upload_file(data)}, follow=True)
    assert response.redirect_chain[-1][0] == "/upload/"
    assert "uploaded by someone else" in response.content.decode()
    assert "alice&#x27;s caption" not in response.content.decode()
    api = token_client(mallory).post("/api/v1/memes/", {"image": upload_file(data)})
    assert api.status_code == 409
    assert api.json()["error"] == "uploaded_by_someone_else"
    assert str(alices.pk) not in api.content.decode()


# --- API -----------------------------------------------------------------------------------


def test_the_api_lists_only_the_tokens_users_memes(user, mallory, moderator, alices, mallorys):
    body = token_client(mallory).get("/api/v1/memes/?page_size=200").json()
    assert [m["id"] for m in body["results"]] == [mallorys.pk] and body["count"] == 1
    body = token_client(moderator).get("/api/v1/memes/?page_size=200").json()
    assert {m["id"] for m in body["results"]} == {alices.pk, mallorys.pk}


def test_the_api_answers_another_users_meme_exactly_like_a_missing_one(mallory, alices):
    api = token_client(mallory)
    for suffix in ("", "retry/"):
        theirs = api.post if suffix else api.get
        a = theirs(f"/api/v1/memes/{alices.pk}/{suffix}")
        b = theirs(f"/api/v1/memes/424242/{suffix}")
        assert a.status_code == b.status_code == 404
        assert a.json()["error"] == b.json()["error"] == "not_found"


def test_moderators_names_are_shown_to_moderators_only(user, moderator, alices, sentiment):
    correction_create(meme=alices, label_set=sentiment, moderator=moderator, new_label="positive")
    (label,) = token_client(user).get(f"/api/v1/memes/{alices.pk}/").json()["human_labels"]
    assert label["label"] == "positive" and label["moderator"] is None
    (label,) = token_client(moderator).get(f"/api/v1/memes/{alices.pk}/").json()["human_labels"]
    assert label["moderator"] == "mod"


def test_a_blind_second_review_stays_blind_through_the_api_until_both_decisions_exist(
    settings, moderator, second_moderator, alices, sentiment
):
    settings.DOUBLE_REVIEW_RATE = 1.0  # every decided meme gets a second review
    correction_create(meme=alices, label_set=sentiment, moderator=moderator, new_label="positive")
    assert alices.second_reviews.filter(second__isnull=True).exists()
    second = token_client(second_moderator)

    assert second.get(f"/api/v1/memes/{alices.pk}/").json()["human_labels"] == []
    (listed,) = second.get("/api/v1/memes/").json()["results"]
    assert listed["human_labels"] == []
    # Filtering by the human label would tell the first decision: it finds nothing.
    assert second.get("/api/v1/memes/?human_label=positive").json()["count"] == 0
    # The first moderator still sees their own decision.
    first_view = token_client(moderator).get(f"/api/v1/memes/{alices.pk}/").json()
    assert [h["label"] for h in first_view["human_labels"]] == ["positive"]

    correction_create(
        meme=alices,
        label_set=sentiment,
        moderator=second_moderator,
        new_label="negative",
        check_stale=False,
    )
    (label,) = second.get(f"/api/v1/memes/{alices.pk}/").json()["human_labels"]
    assert (label["label"], label["moderator"]) == ("negative", "mod2")
    assert second.get("/api/v1/memes/?human_label=negative").json()["count"] == 1


def test_a_session_acts_as_its_user_in_the_api_too(mallory, alices, mallorys):
    api = APIClient()
    api.force_login(mallory)
    assert [m["id"] for m in api.get("/api/v1/memes/").json()["results"]] == [mallorys.pk]
    assert api.get(f"/api/v1/memes/{alices.pk}/").status_code == 404


# --- Exports and moderation pages ----------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/moderation/export.csv", "/moderation/export.jsonl", "/moderation/queue/"]
)
def test_exports_and_the_queue_are_for_moderators_only(user, moderator, url, alices, sentiment):
    assert web(user).get(url).status_code == 403
    assert web(moderator).get(url).status_code == 200


def test_the_failure_detail_is_for_staff_in_the_admin_only(user, django_user_model, alices):
    Meme.objects.filter(pk=alices.pk).update(
        status=Meme.Status.FAILED,
        failure_reason="The model for sentiment could not be loaded (error M102).",
        failure_detail="cannot load model /srv/models/sentiment-v9: model folder not found",
    )
    page = web(user).get(f"/memes/{alices.pk}/").content.decode()
    assert "(error M102)" in page and "/srv/models" not in page
    api = token_client(user).get(f"/api/v1/memes/{alices.pk}/").content.decode()
    assert "(error M102)" in api and "/srv/models" not in api
    admin = django_user_model.objects.create_superuser("root", password="x")
    change = web(admin).get(f"/admin/classifier/meme/{alices.pk}/change/").content.decode()
    assert "/srv/models/sentiment-v9" in change
