"""Undo (Backspace or the link) and reopen: each its own row in the audit trail."""

import pytest
from django.urls import reverse

from moderation.models import LabelCorrection
from moderation.selectors.memes import human_labels, meme_human_decision
from moderation.selectors.queue import queue_memes, queue_size
from moderation.services import (
    UndoRefusedError,
    correction_create,
    correction_reopen,
    correction_undo,
)
from moderation.tests.factories import predicted_meme


def _review(client, meme, **data):
    url = reverse("moderation:review", args=[meme.pk]) + "?label_set=sentiment"
    form = client.get(url).context["form"]
    payload = {
        "action": "confirm",
        "label": form.initial["label"],
        "seen_correction": form.initial["seen_correction"],
        "seen_text_correction": form.initial["seen_text_correction"],
        "q": "",
        **data,
    }
    return client.post(url, payload)


def _undo(client):
    return client.post(reverse("moderation:undo") + "?label_set=sentiment")


@pytest.fixture
def two_memes(version):
    return predicted_meme(version, 0.3, ocr_text="ONE"), predicted_meme(version, 0.45)


def test_it_undoes_the_last_decision_with_a_row_of_its_own(mod_client, two_memes, sentiment):
    first, _ = two_memes
    _review(mod_client, first, label="negative")
    assert queue_size(label_set=sentiment) == 1

    response = _undo(mod_client)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("moderation:review", args=[first.pk]))
    decision, undo = LabelCorrection.objects.filter(meme=first).order_by("id")
    assert undo.source == "undo" and undo.undoes == decision
    assert (undo.old_label, undo.new_label, undo.unusable) == ("negative", "", False)
    # Back to no human decision: in the queue again, out of the training labels.
    assert meme_human_decision(meme=first, label_set=sentiment) is None
    assert not human_labels(label_set=sentiment).filter(meme=first).exists()
    assert queue_size(label_set=sentiment) == 2
    assert first in queue_memes(label_set=sentiment)


def test_it_restores_the_previous_human_label_and_text(
    mod_client, two_memes, sentiment, other_moderator
):
    first, _ = two_memes
    correction_create(
        meme=first, label_set=sentiment, moderator=other_moderator, new_label="positive"
    )
    latest = meme_human_decision(meme=first, label_set=sentiment)
    _review(
        mod_client,
        first,
        label="negative",
        text="ONE FIXED",
        text_edited="on",
        seen_correction=latest.pk,
    )

    _undo(mod_client)

    undo = LabelCorrection.objects.filter(meme=first).latest("id")
    assert (undo.new_label, undo.text_changed, undo.new_text) == ("positive", True, "ONE")
    assert human_labels(label_set=sentiment).get(meme=first).new_label == "positive"


def test_the_review_page_offers_undo_and_counts_the_session(mod_client, two_memes):
    first, second = two_memes
    _review(mod_client, first, label="negative")
    page = mod_client.get(reverse("moderation:review", args=[second.pk]) + "?label_set=sentiment")
    html = page.content.decode()
    assert 'id="undo-form"' in html and "Backspace" in html
    assert f"meme #{first.pk} → negative" in html
    assert "<strong>1</strong> reviewed this session, <strong>1</strong> waiting" in html

    _undo(mod_client)
    page = mod_client.get(reverse("moderation:review", args=[second.pk]) + "?label_set=sentiment")
    html = page.content.decode()
    assert 'id="undo-form"' not in html  # nothing left to undo
    assert "<strong>0</strong> reviewed this session, <strong>2</strong> waiting" in html


def test_it_refuses_to_undo_over_someone_else_s_later_decision(
    mod_client, moderator, other_moderator, two_memes, sentiment
):
    first, _ = two_memes
    _review(mod_client, first, label="negative")
    mine = LabelCorrection.objects.get(meme=first)
    correction_create(
        meme=first,
        label_set=sentiment,
        moderator=other_moderator,
        new_label="positive",
        seen_correction_id=mine.pk,
    )
    with pytest.raises(UndoRefusedError, match="decided again"):
        correction_undo(correction=mine, moderator=moderator)
    response = _undo(mod_client)  # the page no longer offers it; a stale POST is refused
    assert response.status_code == 302
    assert LabelCorrection.objects.filter(meme=first).count() == 2


def test_only_the_deciding_moderator_can_undo(moderator, other_moderator, two_memes, sentiment):
    first, _ = two_memes
    mine = correction_create(
        meme=first, label_set=sentiment, moderator=moderator, new_label="positive"
    )
    with pytest.raises(UndoRefusedError, match="Only the moderator"):
        correction_undo(correction=mine, moderator=other_moderator)
    undo = correction_undo(correction=mine, moderator=moderator)
    with pytest.raises(UndoRefusedError):
        correction_undo(correction=mine, moderator=moderator)  # twice
    with pytest.raises(UndoRefusedError):
        correction_undo(correction=undo, moderator=moderator)  # an undo of an undo


def test_an_undone_decision_leaves_the_dashboard_counts(mod_client, two_memes):
    first, _ = two_memes
    _review(mod_client, first, label="negative")
    _undo(mod_client)
    decisions = mod_client.get(reverse("moderation:dashboard")).context["decisions"]
    assert decisions.moderators == []  # the undone decision and the undo are not decisions


def test_a_decided_meme_can_be_reopened(mod_client, moderator, two_memes, sentiment):
    first, _ = two_memes
    correction_create(meme=first, label_set=sentiment, moderator=moderator, new_label="positive")
    assert first not in queue_memes(label_set=sentiment)

    url = reverse("moderation:reopen", args=[first.pk]) + "?label_set=sentiment"
    response = mod_client.post(url)

    assert response.status_code == 302
    row = LabelCorrection.objects.filter(meme=first).latest("id")
    assert (row.source, row.old_label, row.new_label) == ("reopen", "positive", "")
    assert first in queue_memes(label_set=sentiment)
    with pytest.raises(UndoRefusedError, match="no human decision"):
        correction_reopen(meme=first, label_set=sentiment, moderator=moderator)
    # Deciding it again works on top of the reopen.
    _review(mod_client, first, label="negative", seen_correction=row.pk)
    assert human_labels(label_set=sentiment).get(meme=first).new_label == "negative"


def test_an_undone_meme_is_reclassified_like_any_unlabelled_one(moderator, two_memes, sentiment):
    from moderation.learning.versions import memes_without_human_label

    first, _ = two_memes
    decision = correction_create(
        meme=first, label_set=sentiment, moderator=moderator, new_label="positive"
    )
    assert first not in memes_without_human_label(label_set=sentiment)
    correction_undo(correction=decision, moderator=moderator)
    assert first in memes_without_human_label(label_set=sentiment)
