"""POST /api/v1/classify/: a synchronous answer from the active models, nothing stored."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classifier.models import Meme, ModelVersion, Prediction
from classifier.tests.api.helpers import error_of

pytestmark = pytest.mark.django_db

URL = "/api/v1/classify/"


def classify(client, data: bytes, **fields):
    fields["image"] = SimpleUploadedFile("meme.png", data, content_type="image/png")
    return client.post(URL, fields, format="multipart")


@pytest.mark.model
def test_it_classifies_without_storing_anything(user_client, meme_image, active_model, meme_files):
    response = classify(user_client, meme_image("I LOVE MONDAYS", "SAID NO ONE"), text="ugh")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["width"], body["height"]) == (640, 480)
    assert "MONDAYS" in body["ocr_text"].upper()
    (result,) = body["results"]
    assert result["label_set"] == "sentiment"
    assert result["model_version"] == active_model.version
    assert set(result["probabilities"]) == {"positive", "negative"}
    assert result["label"] == max(result["probabilities"], key=result["probabilities"].get)
    assert result["confidence"] == pytest.approx(max(result["probabilities"].values()))
    assert Meme.objects.count() == 0
    assert Prediction.objects.count() == 0
    assert meme_files() == []


def test_it_has_a_stricter_size_limit_than_uploads(user_client, settings, meme_image):
    data = meme_image()
    settings.API_CLASSIFY_MAX_BYTES = len(data) - 1
    assert len(data) < settings.MAX_UPLOAD_BYTES

    response = classify(user_client, data)

    assert response.status_code == 413
    body = error_of(response)
    assert body["error"] == "file_too_large"
    assert body["field"] == "image"


def test_it_validates_the_file_as_uploads_do(user_client, sentiment):
    response = classify(user_client, b"%PDF-1.4 not an image")
    assert response.status_code == 415
    assert error_of(response)["error"] == "unsupported_image_type"


def test_it_names_an_unknown_label_set(user_client, meme_image, sentiment):
    response = classify(user_client, meme_image(), label_set="nope")
    assert response.status_code == 400
    assert error_of(response)["field"] == "label_set"


def test_it_answers_503_when_no_model_is_active(user_client, meme_image, sentiment):
    ModelVersion.objects.update(is_active=False)
    response = classify(user_client, meme_image())
    assert response.status_code == 503
    assert error_of(response)["error"] == "classifier_unavailable"


def test_it_answers_503_when_the_model_cannot_be_loaded(user_client, meme_image, sentiment):
    from classifier import services

    ModelVersion.objects.update(is_active=False)
    services.model_version_register(
        label_set=sentiment, version="gone", artifact_path="/nonexistent/gone", activate=True
    )
    response = classify(user_client, meme_image())
    assert response.status_code == 503
    assert error_of(response)["error"] == "classifier_unavailable"
