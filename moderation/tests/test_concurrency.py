"""Two moderators on one meme: the second is told, and nothing is lost."""

import pytest
from django.urls import reverse

from moderation.models import LabelCorrection
from moderation.services import StaleReviewError, correction_create
from moderation.tests.factories import predicted_meme


def _url(meme):
    return f"{reverse('moderation:review', args=[meme.pk])}?label_set=sentiment"


def _open(client, user, meme):
    client.force_login(user)
    return client.get(_url(meme)).context["form"].initial


def _submit(client, user, meme, seen, **data):
    client.force_login(user)
    return client.post(
        _url(meme),
        {
            "seen_correction": seen["seen_correction"],
            "seen_text_correction": seen["seen_text_correction"],
            **data,
        },
    )


@pytest.fixture
def meme(version):
    return predicted_meme(version, 0.7, ocr_text="ORIGINAL")


def test_the_second_decision_on_a_stale_page_is_refused(client, meme, moderator, other_moderator):
    seen_by_first = _open(client, moderator, meme)
    seen_by_second = _open(client, other_moderator, meme)

    first = _submit(client, moderator, meme, seen_by_first, action="confirm", label="negative")
    assert first.status_code == 302
    second = _submit(
        client, other_moderator, meme, seen_by_second, action="confirm", label="positive"
    )

    assert second.status_code == 409
    html = second.content.decode()
    assert "This meme changed while you were looking at it." in html
    assert "mod recorded" in html and "“negative”" in html
    # Nothing lost: the first decision stands, the second moderator's choice is
    # still on the page, ready to resubmit.
    assert list(LabelCorrection.objects.values_list("new_label", flat=True)) == ["negative"]
    form = second.context["form"]
    assert form.initial["label"] == "positive"
    assert form.initial["seen_correction"] == LabelCorrection.objects.get().pk


def test_resubmitting_after_the_warning_records_the_decision_on_top(
    client, meme, moderator, other_moderator
):
    seen_by_second = _open(client, other_moderator, meme)
    _submit(
        client, moderator, meme, _open(client, moderator, meme), action="confirm", label="negative"
    )
    stale = _submit(
        client, other_moderator, meme, seen_by_second, action="confirm", label="positive"
    )
    again = _submit(
        client,
        other_moderator,
        meme,
        stale.context["form"].initial,
        action="confirm",
        label="positive",
    )
    assert again.status_code == 302
    labels = list(LabelCorrection.objects.order_by("id").values_list("new_label", "old_label"))
    assert labels == [("negative", "negative"), ("positive", "negative")]


def test_a_stale_text_edit_keeps_the_moderators_text(client, meme, moderator, other_moderator):
    seen_by_second = _open(client, other_moderator, meme)
    _submit(
        client,
        moderator,
        meme,
        _open(client, moderator, meme),
        action="confirm",
        label="negative",
        text="FIRST FIX",
        text_edited="on",
    )
    second = _submit(
        client,
        other_moderator,
        meme,
        seen_by_second,
        action="confirm",
        label="negative",
        text="SECOND FIX",
        text_edited="on",
    )
    assert second.status_code == 409
    assert "SECOND FIX" in second.content.decode()
    assert second.context["form"].initial["text_edited"] is True
    assert "with the text “FIRST FIX”" in second.content.decode()
    assert LabelCorrection.objects.get().new_text == "FIRST FIX"


def test_the_service_refuses_a_stale_decision(sentiment, meme, moderator, other_moderator):
    first = correction_create(
        meme=meme, label_set=sentiment, moderator=moderator, new_label="negative"
    )
    with pytest.raises(StaleReviewError) as caught:
        correction_create(
            meme=meme,
            label_set=sentiment,
            moderator=other_moderator,
            new_label="positive",
            seen_correction_id=None,
        )
    assert caught.value.latest == first
    assert LabelCorrection.objects.count() == 1


def test_a_text_fix_in_another_label_set_is_not_a_label_conflict(
    sentiment, meme, moderator, other_moderator
):
    from classifier.models import LabelSet

    offensive = LabelSet.objects.create(name="offensive", classes=["offensive", "fine"])
    correction_create(
        meme=meme, label_set=offensive, moderator=moderator, new_label="fine", new_text="FIXED"
    )
    # The second moderator saw no sentiment decision and leaves the text alone: fine.
    correction = correction_create(
        meme=meme, label_set=sentiment, moderator=other_moderator, new_label="negative"
    )
    assert correction.new_label == "negative"
    # Editing the text from the old page, though, would overwrite FIXED unseen.
    with pytest.raises(StaleReviewError):
        correction_create(
            meme=meme,
            label_set=sentiment,
            moderator=other_moderator,
            new_label="negative",
            new_text="OTHER",
            seen_correction_id=correction.pk,
        )
