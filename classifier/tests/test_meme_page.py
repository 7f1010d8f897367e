"""The meme page, and logging in and out."""

import pytest
from django.urls import reverse

from classifier import services
from classifier.models import LabelSet, Meme, ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(sentiment):
    return ModelVersion.objects.create(
        label_set=sentiment, version="sentiment-test", artifact_path="/nowhere"
    )


def test_it_refreshes_itself_until_the_meme_is_classified(client, user, meme_factory):
    client.force_login(user)
    meme = meme_factory(caption="my caption", uploader=user)
    page = client.get(reverse("classifier:meme_detail", args=[meme.pk])).content.decode()
    assert '<meta http-equiv="refresh"' in page
    assert "Pending" in page
    assert "my caption" in page
    assert meme.image.url in page


def test_it_shows_the_prediction_and_stops_refreshing(
    client, user, meme_factory, prediction_factory, version
):
    client.force_login(user)
    meme = meme_factory(uploader=user)
    Meme.objects.filter(pk=meme.pk).update(ocr_text="WHEN THE TESTS PASS")
    prediction_factory(meme, version, {"positive": 0.2, "negative": 0.8})
    page = client.get(reverse("classifier:meme_detail", args=[meme.pk])).content.decode()
    assert "refresh" not in page
    assert 'id="predicted-label-sentiment">negative<' in page
    assert "0.800" in page and "0.200" in page
    assert "sentiment-test" in page
    assert "WHEN THE TESTS PASS" in page
    assert "Classified" in page


def test_it_shows_the_latest_prediction_of_each_label_set(
    client, user, meme_factory, prediction_factory, version, sentiment
):
    client.force_login(user)
    humour = LabelSet.objects.create(name="humour", classes=["funny", "not_funny"])
    humour_version = ModelVersion.objects.create(
        label_set=humour, version="humour-test", artifact_path="/nowhere"
    )
    meme = meme_factory(uploader=user)
    prediction_factory(meme, version, {"positive": 0.9, "negative": 0.1})
    prediction_factory(meme, version, {"positive": 0.3, "negative": 0.7})
    prediction_factory(meme, humour_version, {"funny": 0.6, "not_funny": 0.4})
    page = client.get(reverse("classifier:meme_detail", args=[meme.pk])).content.decode()
    assert 'id="predicted-label-sentiment">negative<' in page
    assert 'id="predicted-label-humour">funny<' in page
    assert meme.predictions.count() == 3  # history kept


def test_it_shows_why_a_meme_failed_and_lets_the_uploader_retry(
    client, user, meme_factory, django_capture_on_commit_callbacks
):
    client.force_login(user)
    meme = meme_factory(uploader=user)
    Meme.objects.filter(pk=meme.pk).update(
        status=Meme.Status.FAILED,
        failure_reason="The text in the picture could not be read (error O101).",
        failure_detail="OCR failed: /usr/bin/tesseract is not installed",
    )
    url = reverse("classifier:meme_detail", args=[meme.pk])
    page = client.get(url).content.decode()
    assert "The text in the picture could not be read (error O101)." in page
    assert "/usr/bin/tesseract" not in page
    assert "refresh" not in page
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("classifier:meme_retry", args=[meme.pk]))
    assert response.status_code == 302
    meme.refresh_from_db()
    assert meme.status == Meme.Status.PENDING
    assert meme.failure_reason == ""
    assert len(callbacks) == 1


def test_it_does_not_let_another_user_retry(client, django_user_model, user, meme_factory):
    other = django_user_model.objects.create_user("mallory", password="x")
    meme = meme_factory(uploader=user)
    Meme.objects.filter(pk=meme.pk).update(status=Meme.Status.FAILED)
    client.force_login(other)
    response = client.post(reverse("classifier:meme_retry", args=[meme.pk]))
    # Not theirs answers like not found (it was 403, which confirmed the meme exists).
    assert response.status_code == 404
    assert Meme.objects.get(pk=meme.pk).status == Meme.Status.FAILED


def test_it_answers_404_for_an_unknown_meme(client, user):
    client.force_login(user)
    assert client.get(reverse("classifier:meme_detail", args=[999])).status_code == 404


def test_it_requires_a_login_to_see_a_meme(client, meme_factory):
    meme = meme_factory()
    response = client.get(reverse("classifier:meme_detail", args=[meme.pk]))
    assert response.status_code == 302


def test_it_logs_in_and_out(client, user, password):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 302
    assert response["Location"] == reverse("classifier:upload")
    assert "alice" in client.get("/").content.decode()
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_it_rejects_a_wrong_password(client, user):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_activating_a_version_deactivates_the_previous_one(sentiment, version):
    other = ModelVersion.objects.create(
        label_set=sentiment, version="sentiment-other", artifact_path="/elsewhere"
    )
    services.model_version_activate(model_version=version)
    services.model_version_activate(model_version=other)
    active = ModelVersion.objects.filter(label_set=sentiment, is_active=True)
    assert list(active) == [other]


def test_the_database_refuses_two_active_versions(sentiment, version):
    from django.db import IntegrityError, transaction

    ModelVersion.objects.filter(label_set=sentiment).update(is_active=False)
    version.is_active = True
    version.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.create(
            label_set=sentiment, version="second", artifact_path="/x", is_active=True
        )


def test_a_meme_file_is_served_with_its_stored_type_and_nosniff(client, user, meme_factory):
    client.force_login(user)
    meme = meme_factory(uploader=user)
    response = client.get(meme.image.url)
    assert response.status_code == 200
    assert response["Content-Type"] == meme.content_type == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == meme.image.read()


def test_a_meme_recorded_with_a_type_that_is_not_an_image_is_not_served(
    client, meme_factory, media_root
):
    meme = meme_factory()
    Meme.objects.filter(pk=meme.pk).update(content_type="text/html")
    assert client.get(meme.image.url).status_code == 404


def test_a_file_under_media_that_no_meme_owns_is_not_served(client, media_root):
    stray = media_root / "memes" / "ab" / ("ab" * 32 + ".html")
    stray.parent.mkdir(parents=True)
    stray.write_text("<script>alert(1)</script>")
    assert client.get(f"/media/memes/ab/{stray.name}").status_code == 404
    assert client.get("/media/memes/../../etc/passwd").status_code == 404
