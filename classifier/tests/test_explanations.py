"""Every prediction says which modality decided and which words mattered."""

import pytest
from rest_framework.test import APIClient

from classifier import tasks

pytestmark = [pytest.mark.django_db, pytest.mark.model]


def test_the_task_stores_an_explanation_with_each_prediction(meme_factory, active_model):
    meme = meme_factory(top="MONDAY MORNING", bottom="AGAIN", caption="so tired")
    tasks.classify_meme(meme.pk)
    meme.refresh_from_db()
    (prediction,) = meme.predictions.all()
    e = prediction.explanation
    assert e["label"] == prediction.label
    assert e["deciding"] in ("image", "text", "both")
    assert 0 <= e["image_only"] <= 1 and 0 <= e["text_only"] <= 1
    assert e["image_effect"] == pytest.approx(e["probability"] - e["text_only"])
    words = {w["text"] for w in e["words"]}
    assert words and words <= set(f"{meme.ocr_text}\n{meme.caption}".split())


def test_explanations_can_be_switched_off(settings, meme_factory, active_model):
    settings.EXPLAIN_PREDICTIONS = False
    meme = meme_factory()
    tasks.classify_meme(meme.pk)
    assert meme.predictions.get().explanation == {}


def test_the_meme_page_and_the_api_show_it(client, user, meme_factory, active_model):
    meme = meme_factory(top="CAT PICTURES", bottom="ALL DAY", uploader=user)
    tasks.classify_meme(meme.pk)
    client.force_login(user)
    page = client.get(f"/memes/{meme.pk}/").content.decode()
    assert "Decided by" in page and "Words that moved it most" in page
    api = APIClient()
    api.force_authenticate(user)
    body = api.get(f"/api/v1/memes/{meme.pk}/").json()
    (prediction,) = body["predictions"] if "predictions" in body else body["latest_predictions"]
    assert prediction["explanation"]["deciding"] in ("image", "text", "both")
