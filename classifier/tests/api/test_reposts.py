"""The API shows a meme's repost cluster and the labels moderators gave its reposts."""

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
