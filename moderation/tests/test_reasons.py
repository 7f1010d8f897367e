"""Why each meme waits, its signals, filters by reason, and one count for dashboard and queue."""

import pytest
from django.test import override_settings
from django.urls import reverse

from classifier.models import AutoDecision, Meme
from ml.signals import offensive_scores
from moderation.selectors.queue import QueueFilters, queue_memes, queue_size
from moderation.services import correction_create, review_lease_acquire
from moderation.tests.factories import make_meme, predicted_meme

OFFENSIVE = "you stupid fucking idiot"
HARMLESS = "when the coffee kicks in"


def _with_signal(meme, text):
    # A real score from ml.signals, as the classification task stores it.
    meme.ocr_text = text
    meme.offensive_score = float(offensive_scores([text])[0])
    meme.save(update_fields=["ocr_text", "offensive_score"])
    return meme


@pytest.fixture
def waiting(version, moderator, other_moderator, sentiment):
    """One meme per reason to wait."""
    sure = _with_signal(predicted_meme(version, 0.95), HARMLESS)
    unsure = _with_signal(predicted_meme(version, 0.55), HARMLESS)
    flagged = _with_signal(predicted_meme(version, 0.97), OFFENSIVE)
    audit = predicted_meme(version, 0.99)
    AutoDecision.objects.create(prediction=audit.predictions.get(), threshold=0.9, audit=True)
    failed = make_meme(status=Meme.Status.FAILED)
    with override_settings(DOUBLE_REVIEW_RATE=1.0):
        second = predicted_meme(version, 0.96)
        correction_create(
            meme=second, label_set=sentiment, moderator=other_moderator, new_label="negative"
        )
    return {
        "sure": sure,
        "unsure": unsure,
        "flagged": flagged,
        "audit": audit,
        "failed": failed,
        "second": second,
    }


def _reasons(client, **params):
    response = client.get(reverse("moderation:queue"), {"label_set": "sentiment", **params})
    return {m.pk: [code for code, _ in m.reasons] for m in response.context["page"]}


def test_the_signal_scores_are_real_and_far_apart():
    offensive, harmless = offensive_scores([OFFENSIVE, HARMLESS])
    assert offensive >= 0.8 > 0.5 > harmless


def test_each_meme_says_why_it_waits(mod_client, waiting):
    reasons = _reasons(mod_client)
    assert reasons[waiting["sure"].pk] == ["new"]
    assert reasons[waiting["unsure"].pk] == ["uncertain"]
    assert reasons[waiting["flagged"].pk] == ["signal"]
    assert reasons[waiting["audit"].pk] == ["audit"]
    assert reasons[waiting["failed"].pk] == ["failed"]
    assert reasons[waiting["second"].pk] == ["second"]
    html = mod_client.get(reverse("moderation:queue")).content.decode()
    assert "Second opinion: another moderator decided it, blind" in html
    assert "Model unsure (55%)" in html
    assert "Signal: offensive language" in html


@pytest.mark.parametrize("reason", ["new", "uncertain", "signal", "audit", "failed", "second"])
def test_it_filters_by_reason(mod_client, waiting, reason):
    expected = {"new": "sure", "uncertain": "unsure", "signal": "flagged"}.get(reason, reason)
    assert list(_reasons(mod_client, reason=reason)) == [waiting[expected].pk]


def test_it_filters_and_sorts_by_the_offensive_score(sentiment, waiting):
    flagged = queue_memes(label_set=sentiment, filters=QueueFilters(offensive_min=0.8))
    assert [m.pk for m in flagged] == [waiting["flagged"].pk]
    ordered = queue_memes(label_set=sentiment, filters=QueueFilters(order="offensive"))
    assert ordered[0].pk == waiting["flagged"].pk
    # Memes never scored come last.
    assert [m.offensive_score for m in ordered][-1] is None


def test_the_queue_shows_the_signals(mod_client, waiting):
    html = mod_client.get(reverse("moderation:queue")).content.decode()
    score = waiting["flagged"].offensive_score
    assert f"offensive {score:.2f}" in html


def test_the_dashboard_and_the_queue_count_the_same_memes(
    mod_client, waiting, sentiment, other_moderator
):
    # Another moderator holds one meme: the queue lists it no more, but still counts it.
    review_lease_acquire(meme=waiting["sure"], label_set=sentiment, moderator=other_moderator)
    dashboard = mod_client.get(reverse("moderation:dashboard"))
    queue = mod_client.get(reverse("moderation:queue"))
    on_dashboard = dict(dashboard.context["queue_sizes"])[sentiment]
    assert on_dashboard == queue.context["counts"].waiting == queue_size(label_set=sentiment) == 6
    assert queue.context["counts"].leased_by_others == 1
    assert queue.context["page"].paginator.count == 5
    assert 'id="waiting-total">6<' in queue.content.decode()


def test_a_moderator_s_own_first_decision_is_counted_but_not_served_to_them(
    client, waiting, other_moderator
):
    client.force_login(other_moderator)
    queue = client.get(reverse("moderation:queue"))
    assert queue.context["counts"].waiting == 6
    assert queue.context["counts"].own_second_reviews == 1
    assert waiting["second"].pk not in [m.pk for m in queue.context["page"]]


def test_the_review_and_meme_pages_show_the_offensive_score(mod_client, waiting, client):
    meme = waiting["flagged"]
    review = mod_client.get(reverse("moderation:review", args=[meme.pk]) + "?label_set=sentiment")
    assert 'id="signal-offensive"' in review.content.decode()
    assert f"Offensive language: {meme.offensive_score:.2f}" in review.content.decode()
    page = mod_client.get(reverse("classifier:meme_detail", args=[meme.pk]))
    assert f"Offensive language: {meme.offensive_score:.2f}" in page.content.decode()
    assert 'id="signal-nsfw"' not in page.content.decode()  # NSFW off: not shown
