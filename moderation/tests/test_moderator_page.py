"""The per-moderator page: decisions per day, agreement with others, time per decision."""

import datetime as dt

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from moderation.models import LabelCorrection
from moderation.selectors.moderators import moderator_pace
from moderation.services import correction_create
from moderation.tests.factories import make_meme, predicted_meme


def _decide_at(meme, label_set, moderator, label, at):
    correction = correction_create(
        meme=meme, label_set=label_set, moderator=moderator, new_label=label, check_stale=False
    )
    LabelCorrection.objects.filter(pk=correction.pk).update(created_at=at)
    return correction


def test_the_median_time_leaves_out_breaks_and_bulk(db, sentiment, moderator):
    start = timezone.now() - dt.timedelta(hours=2)
    # Gaps: 10 s, 30 s, 20 s, then an hour's break (left out).
    offsets = [0, 10, 40, 60, 3660]
    for offset in offsets:
        _decide_at(
            make_meme(), sentiment, moderator, "positive", start + dt.timedelta(seconds=offset)
        )
    pace = moderator_pace(moderator=moderator)
    assert (pace.median_seconds, pace.timed) == (20.0, 3)


def test_the_page_shows_decisions_agreement_and_pace(
    mod_client, moderator, other_moderator, version, sentiment
):
    now = timezone.now()
    with override_settings(DOUBLE_REVIEW_RATE=0):
        for i, (mine, theirs) in enumerate([("positive", "positive"), ("negative", "positive")]):
            meme = predicted_meme(version, 0.5)
            _decide_at(meme, sentiment, moderator, mine, now - dt.timedelta(seconds=100 - 30 * i))
            _decide_at(meme, sentiment, other_moderator, theirs, now - dt.timedelta(seconds=10))
    response = mod_client.get(
        reverse("moderation:moderator", args=["mod"]), {"label_set": "sentiment"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="total-decisions">2<' in html
    assert 'id="median-time">30.0 s<' in html
    [pair] = response.context["pairs"]
    assert (pair.n, pair.observed) == (2, 0.5)
    assert "mod2" in html
    today = dict(response.context["days"])[timezone.localdate()]
    assert today == 2


def test_a_moderator_without_decisions_gets_sentences_not_empty_tables(mod_client, sentiment):
    html = mod_client.get(reverse("moderation:moderator", args=["mod"])).content.decode()
    assert "No decisions by mod in the last 14 days." in html
    assert "Not measurable yet" in html
    assert "has been rated by mod and another moderator yet" in html


def test_an_unknown_moderator_is_a_404(mod_client, sentiment):
    assert mod_client.get(reverse("moderation:moderator", args=["nobody"])).status_code == 404
