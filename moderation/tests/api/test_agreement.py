"""GET /api/v1/agreement/: Cohen's and Fleiss' kappa, Gwet's AC1 between moderators."""

import pytest

from moderation.services import correction_create

pytestmark = pytest.mark.django_db


def test_moderators_get_the_agreement_of_a_label_set(
    mod_client, user_client, moderator, django_user_model, sentiment, meme_factory
):
    second = django_user_model.objects.create_user(username="second")
    for label_a, label_b in [("positive", "positive"), ("negative", "negative"),
                             ("positive", "negative"), ("negative", "negative")]:  # fmt: skip
        meme = meme_factory()
        for who, label in ((moderator, label_a), (second, label_b)):
            correction_create(
                meme=meme, label_set=sentiment, moderator=who, new_label=label, check_stale=False
            )
    body = mod_client.get("/api/v1/agreement/?label_set=sentiment").json()
    # p_o = 3/4; A: 2 positive, 2 negative; B: 1 positive, 3 negative
    # kappa: p_e = 0.5*0.25 + 0.5*0.75 = 0.5 -> (0.75 - 0.5) / 0.5 = 0.5
    assert body["items"] == 4 and body["pairs"][0]["kappa"] == pytest.approx(0.5)
    # Fleiss/AC1 use pooled shares: positive 3/8, negative 5/8
    # Fleiss: P_e = 9/64 + 25/64 = 34/64 -> (0.75 - 34/64) / (30/64) = 14/30
    assert body["fleiss_kappa"] == pytest.approx(14 / 30)
    # AC1: P_e = 2 * 3/8 * 5/8 = 30/64 -> (0.75 - 30/64) / (34/64) = 18/34
    assert body["gwet_ac1"] == pytest.approx(18 / 34)
    assert mod_client.get("/api/v1/agreement/").json() == body  # the default label set
    assert user_client.get("/api/v1/agreement/").status_code == 403
    assert mod_client.get("/api/v1/agreement/?label_set=nope").status_code == 400
