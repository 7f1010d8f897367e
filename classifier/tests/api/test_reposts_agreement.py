"""The API shows a meme's repost cluster and suggested labels, and moderator agreement."""

import pytest

from classifier.tests.photos import captioned, crop, jpeg, sample_photos, upload
from moderation.services import correction_create

pytestmark = pytest.mark.django_db


def test_the_meme_detail_has_the_reposts_and_the_label_moderators_gave_them(
    mod_client, moderator, sentiment
):
    # Read by a moderator: reposts are other users' memes and the suggestion comes from
    # moderators' decisions, both hidden from uploaders (test_visibility.py).
    original = captioned(sample_photos()["china"], "WHEN IT WORKS", "FIRST TIME")
    first = upload(jpeg(original))
    correction_create(meme=first, label_set=sentiment, moderator=moderator, new_label="negative")
    repost = upload(jpeg(crop(original, 0.02), quality=50))
    stranger = upload(jpeg(sample_photos()["flower"]))

    body = mod_client.get(f"/api/v1/memes/{repost.pk}/").json()
    assert body["repost_cluster"]["reposts"] == 1
    assert body["repost_cluster"]["meme_ids"] == [first.pk]
    assert body["suggested_labels"] == [
        {"label_set": "sentiment", "label": "negative", "votes": 1, "labelled": 1}
    ]
    alone = mod_client.get(f"/api/v1/memes/{stranger.pk}/").json()
    assert alone["repost_cluster"]["reposts"] == 0 and alone["suggested_labels"] == []
    assert alone["repost_cluster"]["id"] != body["repost_cluster"]["id"]


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
