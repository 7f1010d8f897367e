"""The review page: what it shows and what each action records."""

import pytest
from django.urls import reverse

from moderation.models import LabelCorrection, ReviewSkip
from moderation.services import correction_create
from moderation.tests.factories import make_meme, make_user, make_version, predicted_meme


def _url(meme, q=""):
    return f"{reverse('moderation:review', args=[meme.pk])}?label_set=sentiment&q={q}"


def _decide(client, meme, **data):
    page = client.get(_url(meme))
    initial = page.context["form"].initial
    payload = {
        "seen_correction": initial["seen_correction"],
        "seen_text_correction": initial["seen_text_correction"],
        "q": initial["q"],
        **data,
    }
    return client.post(_url(meme), payload)


@pytest.fixture
def meme(version):
    uploader = make_user("uploader")
    return predicted_meme(version, 0.62, ocr_text="ME AT 3AM", caption="so true", uploader=uploader)


def test_it_shows_image_text_caption_prediction_and_shortcuts(mod_client, meme, version):
    response = mod_client.get(_url(meme))
    html = response.content.decode()
    assert response.status_code == 200
    assert meme.image.url in html
    assert "ME AT 3AM" in html
    assert "so true" in html
    assert "sentiment-test-v1" in html
    assert "62.0%" in html and "38.0%" in html  # every class's probability
    assert 'id="predicted-label">negative' in html
    assert "<kbd>E</kbd> edit text" in html
    # 62% is below the label set's review threshold (0.8): the moderator has to pick.
    assert response.context["form"].initial["label"] == ""


def test_it_shows_the_meme_history(mod_client, meme, sentiment, moderator):
    correction_create(meme=meme, label_set=sentiment, moderator=moderator, new_label="positive")
    response = mod_client.get(_url(meme))
    kinds = [entry.kind for entry in response.context["history"]]
    assert kinds == ["correction", "prediction"]
    assert "Changed negative → <strong>positive</strong>" in response.content.decode()


def test_it_prefetches_the_image_of_the_meme_likely_next(mod_client, meme, version):
    following = predicted_meme(version, 0.9)
    html = mod_client.get(_url(meme)).content.decode()
    assert f'<link rel="prefetch" href="{following.image.url}"' in html


def test_confirm_records_the_label_and_opens_the_next_meme(mod_client, meme, version, moderator):
    following = predicted_meme(version, 0.9)
    response = _decide(mod_client, meme, action="confirm", label="negative")
    assert response.status_code == 302
    assert reverse("moderation:review", args=[following.pk]) in response["Location"]
    correction = LabelCorrection.objects.get()
    assert (correction.meme, correction.moderator) == (meme, moderator)
    assert (correction.old_label, correction.new_label) == ("negative", "negative")


def test_changing_the_label_and_the_text_is_one_correction(mod_client, meme):
    _decide(
        mod_client,
        meme,
        action="confirm",
        label="positive",
        text="ME AT 3 AM",
        text_edited="on",
    )
    correction = LabelCorrection.objects.get()
    assert (correction.old_label, correction.new_label) == ("negative", "positive")
    assert (correction.old_text, correction.new_text) == ("ME AT 3AM", "ME AT 3 AM")


def test_the_text_is_ignored_unless_the_editor_was_used(mod_client, meme):
    _decide(mod_client, meme, action="confirm", label="negative", text="something else")
    assert not LabelCorrection.objects.get().text_changed


def test_unusable_is_recorded_without_a_label(mod_client, meme):
    _decide(mod_client, meme, action="unusable")
    correction = LabelCorrection.objects.get()
    assert correction.unusable and correction.new_label == ""


def test_skip_records_no_correction_and_moves_on(mod_client, meme, moderator):
    response = _decide(mod_client, meme, action="skip")
    assert response.status_code == 302
    assert not LabelCorrection.objects.exists()
    assert ReviewSkip.objects.get().moderator == moderator


def test_the_last_meme_sends_the_moderator_back_to_the_queue(mod_client, meme):
    response = _decide(mod_client, meme, action="confirm", label="negative")
    assert response["Location"].startswith(reverse("moderation:queue"))
    page = mod_client.get(response["Location"])
    assert "queue is empty" in page.content.decode()


def test_next_keeps_the_moderators_filters(mod_client, meme, version):
    positive = predicted_meme(version, 0.1)
    predicted_meme(version, 0.55)  # more uncertain, but filtered out below
    page = mod_client.get(_url(meme, q="predicted_label%3Dpositive"))
    response = mod_client.post(
        _url(meme),
        {
            "action": "confirm",
            "label": "negative",
            "seen_correction": 0,
            "q": page.context["form"].initial["q"],
        },
    )
    assert reverse("moderation:review", args=[positive.pk]) in response["Location"]


def test_confirm_without_a_label_is_refused(mod_client, sentiment):
    meme = make_meme(status="failed")
    response = _decide(mod_client, meme, action="confirm", label="")
    assert response.status_code == 400
    assert "Pick a label first." in response.content.decode()
    assert not LabelCorrection.objects.exists()


def test_a_label_outside_the_label_set_is_refused(mod_client, meme):
    response = _decide(mod_client, meme, action="confirm", label="meh")
    assert response.status_code == 400
    assert not LabelCorrection.objects.exists()


def test_a_meme_without_prediction_can_be_reviewed(mod_client, sentiment):
    meme = make_meme(status="failed")
    response = mod_client.get(_url(meme))
    assert response.status_code == 200
    assert "No prediction for this label set yet." in response.content.decode()


def test_it_shows_the_prediction_of_the_label_set_asked_for(mod_client, meme, sentiment):
    from classifier.models import LabelSet
    from moderation.tests.factories import predict

    offensive = LabelSet.objects.create(
        name="offensive", classes=["offensive", "not_offensive"], alert_class="offensive"
    )
    predict(meme, make_version(offensive, "offensive-v1"), {"offensive": 0.9, "not_offensive": 0.1})
    response = mod_client.get(
        reverse("moderation:review", args=[meme.pk]), {"label_set": "offensive"}
    )
    assert response.context["prediction"].label == "offensive"
    assert [c for _, c in response.context["classes"]] == ["offensive", "not_offensive"]


def test_an_unknown_meme_is_404(mod_client, version):
    response = mod_client.get(reverse("moderation:review", args=[999]), {"label_set": "sentiment"})
    assert response.status_code == 404
