"""POST /api/v1/memes/{id}/corrections/: the review page's audit trail, stale checks, errors."""

import pytest

from classifier.tests.api.helpers import error_of
from moderation.models import LabelCorrection
from moderation.selectors.memes import meme_current_text, meme_latest_correction

pytestmark = pytest.mark.django_db


@pytest.fixture
def meme(meme_factory, prediction_factory, active_model):
    meme = meme_factory()
    prediction_factory(meme, active_model, {"positive": 0.3, "negative": 0.7})
    meme.refresh_from_db()
    meme.ocr_text = "MONDAYS"
    meme.save(update_fields=["ocr_text"])
    return meme


def correct(client, meme, **body):
    return client.post(f"/api/v1/memes/{meme.pk}/corrections/", body, format="json")


def test_it_records_a_label_in_the_same_trail_as_the_review_page(
    mod_client, meme, moderator, sentiment, active_model
):
    response = correct(mod_client, meme, label_set="sentiment", label="positive")

    assert response.status_code == 201, response.json()
    correction = LabelCorrection.objects.get()
    body = response.json()
    assert body["id"] == correction.pk
    assert body["old_label"] == "negative"  # what the model said
    assert body["new_label"] == "positive"
    assert body["predicted_label"] == "negative"
    assert body["moderator"] == "mod"
    assert body["source"] == "api"
    assert body["model_version"] == active_model.version
    assert correction.moderator == moderator
    assert meme_latest_correction(meme=meme, label_set=sentiment) == correction


def test_it_accepts_a_form_encoded_body(mod_client, meme):
    response = mod_client.post(
        f"/api/v1/memes/{meme.pk}/corrections/",
        {"label_set": "sentiment", "label": "positive"},
        format="multipart",
    )
    assert response.status_code == 201


def test_it_corrects_the_text_alone_keeping_the_predicted_label(mod_client, meme):
    response = correct(mod_client, meme, label_set="sentiment", text="I LOVE MONDAYS")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["new_label"] == "negative"
    assert body["text_changed"] is True
    assert body["old_text"] == "MONDAYS"
    assert body["new_text"] == "I LOVE MONDAYS"
    assert meme_current_text(meme=meme) == "I LOVE MONDAYS"


def test_a_text_only_correction_keeps_the_human_label_standing(mod_client, meme):
    correct(mod_client, meme, label_set="sentiment", label="positive")
    body = correct(mod_client, meme, label_set="sentiment", text="FIXED").json()
    assert body["old_label"] == body["new_label"] == "positive"


def test_it_marks_a_meme_unusable(mod_client, meme, sentiment):
    response = correct(mod_client, meme, label_set="sentiment", unusable=True)
    assert response.status_code == 201
    assert response.json()["unusable"] is True
    assert response.json()["new_label"] == ""
    assert meme_latest_correction(meme=meme, label_set=sentiment).unusable


def test_it_refuses_a_text_only_correction_when_there_is_no_label_yet(mod_client, meme_factory):
    meme = meme_factory()
    response = correct(mod_client, meme, label_set="sentiment", text="words")
    assert response.status_code == 400
    assert error_of(response)["field"] == "label"
    assert not LabelCorrection.objects.exists()


def test_it_answers_409_when_someone_decided_since_the_one_seen(mod_client, meme):
    first = correct(
        mod_client, meme, label_set="sentiment", label="positive", seen_correction_id=None
    )
    assert first.status_code == 201
    first_id = first.json()["id"]

    stale = correct(
        mod_client, meme, label_set="sentiment", label="negative", seen_correction_id=None
    )
    assert stale.status_code == 409
    body = error_of(stale)
    assert body["error"] == "stale"
    assert body["latest_correction_id"] == first_id
    assert LabelCorrection.objects.count() == 1

    fresh = correct(
        mod_client, meme, label_set="sentiment", label="negative", seen_correction_id=first_id
    )
    assert fresh.status_code == 201


def test_it_checks_the_text_seen_too(mod_client, meme):
    correct(mod_client, meme, label_set="sentiment", text="ONE", seen_text_correction_id=None)
    stale = correct(
        mod_client, meme, label_set="sentiment", text="TWO", seen_text_correction_id=None
    )
    assert stale.status_code == 409


def test_without_seen_ids_the_latest_decision_wins(mod_client, meme):
    correct(mod_client, meme, label_set="sentiment", label="positive")
    assert correct(mod_client, meme, label_set="sentiment", label="negative").status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"label": "positive"}, "label_set"),
        ({"label_set": "nope", "label": "positive"}, "label_set"),
        ({"label_set": 7, "label": "positive"}, "label_set"),
        ({"label_set": "sentiment", "label": "happy"}, "label"),
        ({"label_set": "sentiment", "label": ["positive"]}, "label"),
        ({"label_set": "sentiment"}, "label"),
        ({"label_set": "sentiment", "label": "positive", "unusable": True}, "label"),
        ({"label_set": "sentiment", "unusable": "maybe"}, "unusable"),
        ({"label_set": "sentiment", "text": 12}, "text"),
        ({"label_set": "sentiment", "text": "a\x00b"}, "text"),
        (
            {"label_set": "sentiment", "label": "positive", "seen_correction_id": "x"},
            "seen_correction_id",
        ),
        (
            {"label_set": "sentiment", "label": "positive", "seen_correction_id": 2**70},
            "seen_correction_id",
        ),
    ],
)
def test_it_names_the_bad_field(mod_client, meme, body, field):
    response = correct(mod_client, meme, **body)
    assert response.status_code == 400, response.json()
    error = error_of(response)
    assert error["error"] == "invalid"
    assert error["field"] == field
    assert not LabelCorrection.objects.exists()


def test_it_answers_400_for_malformed_json(mod_client, meme):
    response = mod_client.generic(
        "POST", f"/api/v1/memes/{meme.pk}/corrections/", b'{"label_set": ', "application/json"
    )
    assert response.status_code == 400
    assert error_of(response)["error"] == "parse_error"


def test_it_answers_400_for_a_json_body_that_is_not_an_object(mod_client, meme):
    response = mod_client.generic(
        "POST", f"/api/v1/memes/{meme.pk}/corrections/", b'["sentiment"]', "application/json"
    )
    assert response.status_code == 400
    assert error_of(response)["field"] == "non_field_errors"


def test_it_answers_404_for_an_unknown_meme(mod_client, sentiment):
    response = mod_client.post(
        "/api/v1/memes/999999/corrections/",
        {"label_set": "sentiment", "label": "positive"},
        format="json",
    )
    assert response.status_code == 404
    assert error_of(response)["error"] == "not_found"
