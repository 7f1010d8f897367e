"""Bulk actions: a confirmation step, then one correction per meme."""

import pytest
from django.urls import reverse

from moderation.models import LabelCorrection
from moderation.services import (
    correction_create,
    corrections_bulk_create,
    review_lease_acquire,
)
from moderation.tests.factories import make_meme, predicted_meme


@pytest.fixture
def memes(version):
    return [predicted_meme(version, p) for p in (0.2, 0.8, 0.6)]


def _post(client, memes, **data):
    return client.post(
        reverse("moderation:bulk"),
        {"label_set": "sentiment", "memes": [m.pk for m in memes], "q": "order=newest", **data},
    )


def test_it_asks_for_confirmation_first(mod_client, memes):
    response = _post(mod_client, memes, action="confirm")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Confirm as predicted: 3 memes" in html
    assert 'name="confirmed" value="on"' in html
    assert not LabelCorrection.objects.exists()


def test_confirming_writes_one_correction_per_meme(mod_client, memes, moderator):
    response = _post(mod_client, memes, action="confirm", confirmed="on")
    assert response.status_code == 302
    assert "order=newest" in response["Location"]
    rows = LabelCorrection.objects.order_by("meme_id")
    assert [(c.meme, c.new_label, c.source) for c in rows] == [
        (memes[0], "positive", "bulk"),
        (memes[1], "negative", "bulk"),
        (memes[2], "negative", "bulk"),
    ]
    assert all(c.moderator == moderator for c in rows)


def test_relabel_sets_the_chosen_label(mod_client, memes):
    _post(mod_client, memes[:2], action="relabel", label="positive", confirmed="on")
    rows = LabelCorrection.objects.order_by("meme_id")
    assert [(c.old_label, c.new_label) for c in rows] == [
        ("positive", "positive"),
        ("negative", "positive"),
    ]


def test_relabel_without_a_label_is_refused(mod_client, memes):
    response = _post(mod_client, memes, action="relabel", confirmed="on")
    assert response.status_code == 302
    assert not LabelCorrection.objects.exists()
    page = mod_client.get(response["Location"])
    assert "Pick the new label." in page.content.decode()


def test_it_leaves_alone_what_it_must_not_touch(sentiment, memes, moderator, other_moderator):
    review_lease_acquire(meme=memes[0], label_set=sentiment, moderator=other_moderator)
    decided = correction_create(
        meme=memes[1], label_set=sentiment, moderator=other_moderator, new_label="positive"
    )
    unpredicted = make_meme(status="failed")
    result = corrections_bulk_create(
        meme_ids=[m.pk for m in memes] + [unpredicted.pk],
        label_set=sentiment,
        moderator=moderator,
        action="confirm",
    )
    assert [c.meme for c in result.created] == [memes[2]]
    reasons = {meme.pk: reason for meme, reason in result.skipped}
    assert reasons == {
        memes[0].pk: "being reviewed by mod2",
        memes[1].pk: "already has a human label",
        unpredicted.pk: "has no prediction to confirm",
    }
    assert LabelCorrection.objects.get(meme=memes[1]) == decided


def test_the_queue_page_reports_what_was_skipped(mod_client, sentiment, memes, other_moderator):
    correction_create(
        meme=memes[1], label_set=sentiment, moderator=other_moderator, new_label="positive"
    )
    response = _post(mod_client, memes, action="confirm", confirmed="on")
    html = mod_client.get(response["Location"]).content.decode()
    assert "2 memes labelled." in html
    assert f"Meme {memes[1].pk} left alone: already has a human label." in html
