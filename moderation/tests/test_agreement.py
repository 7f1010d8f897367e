"""Agreement between moderators (kappa, AC1) and the blind second review that feeds it."""

from collections import Counter

import pytest
from django.urls import reverse

from moderation.models import LabelCorrection, SecondReview
from moderation.selectors.agreement import (
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    moderator_agreement,
    second_review_drawn,
)
from moderation.selectors.queue import queue_candidates, queue_size
from moderation.services import correction_create
from moderation.tests.factories import make_meme, make_user, predicted_meme

P, N = "positive", "negative"

# --- The statistics, against values worked out by hand ------------------------------------


def test_cohen_kappa_of_two_raters_matches_the_hand_computation():
    # 10 memes. A: 8 positive, 2 negative; B: 8 positive, 2 negative; they differ on two.
    a = [P, P, P, P, P, P, P, P, N, N]
    b = [P, P, P, P, P, P, P, N, P, N]
    # p_o = 8/10 = 0.8; p_e = 0.8*0.8 + 0.2*0.2 = 0.68; kappa = 0.12 / 0.32 = 0.375
    assert cohen_kappa(list(zip(a, b, strict=True))) == pytest.approx(0.375)


def test_kappa_collapses_on_skewed_labels_and_ac1_does_not():
    # 20 memes: 18 both positive, one each way in disagreement.
    pairs = [(P, P)] * 18 + [(P, N), (N, P)]
    # p_o = 0.9; marginals 19/20 and 1/20 for both raters.
    # kappa: p_e = 0.95^2 + 0.05^2 = 0.905 -> (0.9 - 0.905) / 0.095 = -0.05263
    assert cohen_kappa(pairs) == pytest.approx(-0.005 / 0.095)
    # AC1: pi = (0.95, 0.05); p_e = (0.95*0.05 + 0.05*0.95) / (2 - 1) = 0.095
    #      -> (0.9 - 0.095) / 0.905 = 0.88950
    items = [Counter([x, y]) for x, y in pairs]
    assert gwet_ac1(items, [P, N]) == pytest.approx(0.805 / 0.905)
    # With two raters Fleiss' kappa is Scott's pi: same marginals here, so the same as kappa.
    assert fleiss_kappa(items) == pytest.approx(-0.005 / 0.095)


THREE_RATERS = [  # (rater 1, rater 2, rater 3) on five memes
    (P, P, P),
    (P, P, N),
    (P, N, N),
    (N, N, N),
    (P, P, P),
]


def test_fleiss_kappa_and_ac1_of_three_raters_match_the_hand_computation():
    items = [Counter(row) for row in THREE_RATERS]
    # P_i = sum n_k(n_k - 1) / (3 * 2): 1, 1/3, 1/3, 1, 1 -> P = (11/3) / 5 = 11/15
    # p_positive = 9/15 = 0.6, p_negative = 0.4 -> P_e = 0.36 + 0.16 = 0.52
    # kappa = (11/15 - 13/25) / (12/25) = (16/75) / (12/25) = 4/9
    assert fleiss_kappa(items) == pytest.approx(4 / 9)
    # pi_positive = (1 + 2/3 + 1/3 + 0 + 1) / 5 = 0.6 -> P_e = 2 * 0.6 * 0.4 / (2 - 1) = 0.48
    # AC1 = (11/15 - 12/25) / (13/25) = (19/75) / (13/25) = 19/39
    assert gwet_ac1(items, [P, N]) == pytest.approx(19 / 39)
    # Raters 1 and 2: agree on 4 of 5; marginals (4P, 1N) and (3P, 2N)
    # p_e = 0.8*0.6 + 0.2*0.4 = 0.56 -> kappa = (0.8 - 0.56) / 0.44 = 6/11
    assert cohen_kappa([(r[0], r[1]) for r in THREE_RATERS]) == pytest.approx(6 / 11)


def test_kappa_is_undefined_when_everyone_used_one_class():
    assert cohen_kappa([(P, P), (P, P)]) is None
    assert fleiss_kappa([Counter([P, P])]) is None
    assert cohen_kappa([]) is None and fleiss_kappa([]) is None and gwet_ac1([], [P, N]) is None


# --- On recorded decisions ----------------------------------------------------------------


@pytest.fixture
def raters(db):
    return [make_user(f"rater{i}", moderator=True) for i in (1, 2, 3)]


def _record(rows, raters, sentiment, version):
    memes = []
    for row in rows:
        meme = predicted_meme(version, 0.5)
        for rater, label in zip(raters, row, strict=True):
            correction_create(
                meme=meme, label_set=sentiment, moderator=rater, new_label=label, check_stale=False
            )
        memes.append(meme)
    return memes


def test_it_computes_agreement_from_each_moderators_first_decision(raters, sentiment, version):
    memes = _record(THREE_RATERS, raters, sentiment, version)
    # A later change of mind, a bulk action and a meme only one moderator saw do not count.
    correction_create(
        meme=memes[2], label_set=sentiment, moderator=raters[0], new_label=N, check_stale=False
    )
    correction_create(
        meme=memes[0],
        label_set=sentiment,
        moderator=raters[1],
        new_label=N,
        check_stale=False,
        source=LabelCorrection.Source.BULK,
    )
    _record([(N,)], raters[:1], sentiment, version)
    result = moderator_agreement(label_set=sentiment)
    assert result.items == 5 and result.ratings == 15
    assert result.fleiss_kappa == pytest.approx(4 / 9)
    assert result.gwet_ac1 == pytest.approx(19 / 39)
    pair = next(p for p in result.pairs if (p.first, p.second) == ("rater1", "rater2"))
    assert pair.n == 5 and pair.observed == pytest.approx(0.8)
    assert pair.kappa == pytest.approx(6 / 11)


def test_the_dashboard_shows_moderator_agreement(mod_client, raters, sentiment, version):
    _record(THREE_RATERS, raters, sentiment, version)
    html = mod_client.get(reverse("moderation:dashboard") + "?label_set=sentiment")
    html = html.content.decode()
    assert 'id="agreement-items">5<' in html
    assert 'id="fleiss-kappa">0.444<' in html
    assert 'id="gwet-ac1">0.487<' in html
    assert (
        '<td data-label="Moderator">rater1</td><td data-label="Moderator">rater2</td>'
        '<td class="num" data-label="Memes both rated">5</td>'
    ) in html
    assert "0.545" in html  # Cohen's kappa of rater1 and rater2


# --- The double-review sample ---------------------------------------------------------------


def test_the_sample_is_drawn_from_the_memes_content_at_the_configured_rate(version, sentiment):
    memes = [make_meme() for _ in range(200)]
    drawn = [second_review_drawn(meme=m, label_set=sentiment, rate=0.3) for m in memes]
    again = [second_review_drawn(meme=m, label_set=sentiment, rate=0.3) for m in memes]
    assert drawn == again
    assert 40 <= sum(drawn) <= 80  # 60 expected
    assert not any(second_review_drawn(meme=m, label_set=sentiment, rate=0) for m in memes)
    assert all(second_review_drawn(meme=m, label_set=sentiment, rate=1) for m in memes)


def _review_url(meme):
    return f"{reverse('moderation:review', args=[meme.pk])}?label_set=sentiment"


def _submit(client, meme, label):
    initial = client.get(_review_url(meme)).context["form"].initial
    return client.post(
        _review_url(meme),
        {
            "action": "confirm",
            "label": label,
            "seen_correction": initial["seen_correction"],
            "seen_text_correction": initial["seen_text_correction"],
        },
    )


def test_a_sampled_meme_goes_to_a_second_moderator_blind_and_both_decisions_are_kept(
    client, settings, sentiment, version, moderator, other_moderator
):
    settings.DOUBLE_REVIEW_RATE = 1.0
    meme = predicted_meme(version, 0.8)  # the model says negative
    client.force_login(moderator)
    assert _submit(client, meme, P).status_code == 302
    review = SecondReview.objects.get(meme=meme)
    assert review.first.moderator == moderator and review.second is None

    # Back in the queue, for anyone but the moderator who decided it.
    assert not queue_candidates(label_set=sentiment, moderator=moderator).filter(pk=meme.pk)
    assert queue_candidates(label_set=sentiment, moderator=other_moderator).filter(pk=meme.pk)
    assert queue_size(label_set=sentiment) == 1

    client.force_login(other_moderator)
    page = client.get(_review_url(meme))
    html = page.content.decode()
    assert 'id="second-opinion"' in html
    assert 'id="current-label"' not in html  # the first decision is hidden
    assert all(entry.kind != "correction" for entry in page.context["history"])
    assert page.context["form"].initial["label"] == N  # the model's, not the first moderator's

    response = _submit(client, meme, N)
    assert response.status_code == 302  # not refused as a stale edit
    rows = list(LabelCorrection.objects.filter(meme=meme).order_by("id"))
    assert [(r.moderator, r.new_label) for r in rows] == [(moderator, P), (other_moderator, N)]
    review.refresh_from_db()
    assert review.second == rows[1] and review.completed_at is not None
    assert queue_size(label_set=sentiment) == 0
    assert not queue_candidates(label_set=sentiment, moderator=make_user("third", moderator=True))

    result = moderator_agreement(label_set=sentiment)
    assert (result.items, result.second_reviews_done, result.second_reviews_open) == (1, 1, 0)


def test_a_third_decision_while_the_second_opinion_page_is_open_is_still_refused(
    client, settings, sentiment, version, moderator, other_moderator
):
    settings.DOUBLE_REVIEW_RATE = 1.0
    meme = predicted_meme(version, 0.8)
    correction_create(meme=meme, label_set=sentiment, moderator=moderator, new_label=P)
    client.force_login(other_moderator)
    initial = client.get(_review_url(meme)).context["form"].initial
    correction_create(
        meme=meme, label_set=sentiment, moderator=moderator, new_label=N, check_stale=False
    )
    response = client.post(
        _review_url(meme),
        {"action": "confirm", "label": P, "seen_correction": initial["seen_correction"]},
    )
    assert response.status_code == 409


def test_memes_outside_the_sample_leave_the_queue_once_decided(
    settings, sentiment, version, moderator, other_moderator
):
    settings.DOUBLE_REVIEW_RATE = 0.0
    meme = predicted_meme(version, 0.8)
    correction_create(meme=meme, label_set=sentiment, moderator=moderator, new_label=P)
    assert not SecondReview.objects.exists()
    assert not queue_candidates(label_set=sentiment, moderator=other_moderator).filter(pk=meme.pk)
