"""correction_create: every decision is a new row; the latest one stands."""

import pytest
from django.core.exceptions import ValidationError

from moderation.models import LabelCorrection
from moderation.selectors.memes import human_labels, meme_current_text, meme_latest_correction
from moderation.services import correction_create
from moderation.tests.factories import make_meme, predicted_meme


def test_it_records_a_confirmation_against_the_prediction(sentiment, version, moderator):
    meme = predicted_meme(version, 0.8)
    correction = correction_create(
        meme=meme, label_set=sentiment, moderator=moderator, new_label="negative"
    )
    assert correction.old_label == "negative"
    assert correction.new_label == "negative"
    assert correction.predicted_label == "negative"
    assert correction.model_version == version
    assert correction.source == LabelCorrection.Source.MODERATOR
    assert not correction.label_changed
    assert not correction.text_changed


def test_it_keeps_every_decision_and_the_latest_one_stands(
    sentiment, version, moderator, other_moderator
):
    meme = predicted_meme(version, 0.8)
    first = correction_create(
        meme=meme, label_set=sentiment, moderator=moderator, new_label="positive"
    )
    second = correction_create(
        meme=meme,
        label_set=sentiment,
        moderator=other_moderator,
        new_label="negative",
        seen_correction_id=first.pk,
    )
    assert second.old_label == "positive"
    assert second.predicted_label == "negative"
    assert LabelCorrection.objects.filter(meme=meme).count() == 2
    first.refresh_from_db()
    assert first.new_label == "positive"
    assert meme_latest_correction(meme=meme, label_set=sentiment) == second
    assert list(human_labels(label_set=sentiment)) == [second]


def test_it_stores_old_and_new_text_only_when_the_text_changed(sentiment, version, moderator):
    meme = predicted_meme(version, 0.3, ocr_text="HELO WORLD")
    unchanged = correction_create(
        meme=meme,
        label_set=sentiment,
        moderator=moderator,
        new_label="positive",
        new_text="  HELO WORLD\r\n",
    )
    assert not unchanged.text_changed
    changed = correction_create(
        meme=meme,
        label_set=sentiment,
        moderator=moderator,
        new_label="positive",
        new_text="HELLO WORLD",
        seen_correction_id=unchanged.pk,
    )
    assert changed.text_changed
    assert (changed.old_text, changed.new_text) == ("HELO WORLD", "HELLO WORLD")
    meme.refresh_from_db()
    assert meme.ocr_text == "HELO WORLD"  # the OCR output itself is kept
    assert meme_current_text(meme=meme) == "HELLO WORLD"


def test_it_keeps_a_cleared_text_as_a_correction(sentiment, version, moderator):
    meme = predicted_meme(version, 0.3, ocr_text="~~ noise ~~")
    correction = correction_create(
        meme=meme, label_set=sentiment, moderator=moderator, new_label="positive", new_text=""
    )
    assert correction.text_changed
    assert meme_current_text(meme=meme) == ""


def test_it_marks_a_meme_unusable_without_giving_it_a_label(sentiment, version, moderator):
    meme = predicted_meme(version, 0.3)
    correction = correction_create(
        meme=meme, label_set=sentiment, moderator=moderator, unusable=True
    )
    assert correction.unusable
    assert correction.new_label == ""
    assert correction.old_label == "positive"
    assert not human_labels(label_set=sentiment).exists()


def test_it_rejects_a_label_outside_the_label_set(sentiment, version, moderator):
    meme = predicted_meme(version, 0.3)
    with pytest.raises(ValidationError):
        correction_create(meme=meme, label_set=sentiment, moderator=moderator, new_label="meh")
    assert not LabelCorrection.objects.exists()


def test_it_labels_a_meme_without_prediction(sentiment, moderator):
    meme = make_meme(status="failed")
    correction = correction_create(
        meme=meme, label_set=sentiment, moderator=moderator, new_label="positive"
    )
    assert correction.old_label == ""
    assert correction.predicted_label == ""
    assert correction.model_version is None


def test_it_records_imported_labels_without_a_moderator(sentiment):
    meme = make_meme(ocr_text="from the csv")
    correction = correction_create(
        meme=meme,
        label_set=sentiment,
        moderator=None,
        new_label="negative",
        source=LabelCorrection.Source.IMPORT,
        check_stale=False,
    )
    assert correction.moderator is None
    assert correction.source == "import"


def test_the_trail_outlives_attempts_to_delete_the_meme(sentiment, version, moderator):
    from django.db.models import ProtectedError

    meme = predicted_meme(version, 0.3)
    correction_create(meme=meme, label_set=sentiment, moderator=moderator, new_label="positive")
    with pytest.raises(ProtectedError):
        meme.delete()
    assert LabelCorrection.objects.filter(meme=meme).count() == 1


def test_it_lists_the_latest_corrected_text_of_every_meme(sentiment, version, moderator):
    from moderation.selectors.memes import memes_corrected_texts

    fixed = predicted_meme(version, 0.3, ocr_text="A")
    untouched = predicted_meme(version, 0.3, ocr_text="B")
    first = correction_create(
        meme=fixed, label_set=sentiment, moderator=moderator, new_label="positive", new_text="A1"
    )
    correction_create(
        meme=fixed,
        label_set=sentiment,
        moderator=moderator,
        new_label="positive",
        new_text="A2",
        seen_correction_id=first.pk,
        seen_text_correction_id=first.pk,
    )
    correction_create(
        meme=untouched, label_set=sentiment, moderator=moderator, new_label="negative"
    )
    assert memes_corrected_texts() == {fixed.pk: "A2"}
