"""Repost clusters on the review page: N reposts, one decision for the whole cluster."""

import pytest
from django.urls import reverse

from classifier.tests.photos import captioned, crop, jpeg, sample_photos, upload
from moderation.models import LabelCorrection
from moderation.services import correction_create, review_lease_acquire
from moderation.tests.factories import predict


@pytest.fixture
def cluster(version):
    """Four uploads of one real photo: the original, a re-encode, a crop and a recaption."""
    photo = sample_photos()["china"]
    original = captioned(photo, "WHEN THE BUILD PASSES", "ON THE FIRST TRY")
    memes = [
        upload(jpeg(original), "original.jpg"),
        upload(jpeg(original, quality=30), "reencoded.jpg"),
        upload(jpeg(crop(original, 0.02)), "cropped.jpg"),
        upload(jpeg(captioned(photo, "ME ON MONDAY", "SEND HELP")), "recaptioned.jpg"),
    ]
    for meme in memes:
        predict(meme, version, {"positive": 0.7, "negative": 0.3})
    return memes


@pytest.fixture
def stranger(version):
    meme = upload(jpeg(captioned(sample_photos()["flower"], "NOT", "RELATED")), "flower.jpg")
    predict(meme, version, {"positive": 0.7, "negative": 0.3})
    return meme


def _url(meme):
    return f"{reverse('moderation:review', args=[meme.pk])}?label_set=sentiment"


def test_the_review_page_shows_the_reposts_with_thumbnails(mod_client, cluster, stranger):
    html = mod_client.get(_url(cluster[0])).content.decode()
    assert "3 reposts<" in html
    for other in cluster[1:]:
        assert other.image.url in html
    assert stranger.image.url not in html
    assert 'id="apply-to-cluster"' in html
    alone = mod_client.get(_url(stranger)).content.decode()
    assert 'id="reposts"' not in alone and 'id="apply-to-cluster"' not in alone


def test_one_decision_labels_the_whole_cluster_one_row_per_meme(
    mod_client, cluster, stranger, sentiment, moderator, other_moderator
):
    first, reencoded, cropped, recaptioned = cluster
    # Already decided by someone, and being reviewed by someone else: both left alone.
    correction_create(
        meme=cropped, label_set=sentiment, moderator=other_moderator, new_label="positive"
    )
    review_lease_acquire(meme=recaptioned, label_set=sentiment, moderator=other_moderator)

    page = mod_client.get(_url(first))
    response = mod_client.post(
        _url(first),
        {
            "action": "confirm",
            "label": "negative",
            "apply_to_cluster": "on",
            "seen_correction": page.context["form"].initial["seen_correction"],
        },
        follow=True,
    )
    assert response.status_code == 200
    rows = LabelCorrection.objects.filter(moderator=moderator).order_by("meme_id")
    assert [(r.meme_id, r.new_label, r.source) for r in rows] == [
        (first.pk, "negative", "moderator"),
        (reencoded.pk, "negative", "bulk"),
    ]
    assert LabelCorrection.objects.filter(meme=cropped).count() == 1
    assert not LabelCorrection.objects.filter(meme__in=[recaptioned, stranger]).exists()
    assert "Applied to 1 repost(s) of it, 2 skipped" in response.content.decode()


def test_without_the_checkbox_only_the_meme_itself_is_decided(mod_client, cluster):
    page = mod_client.get(_url(cluster[0]))
    mod_client.post(
        _url(cluster[0]),
        {
            "action": "confirm",
            "label": "negative",
            "seen_correction": page.context["form"].initial["seen_correction"],
        },
    )
    assert LabelCorrection.objects.count() == 1


def test_a_new_repost_of_a_labelled_picture_gets_that_label_suggested(
    mod_client, cluster, sentiment, moderator, version
):
    for meme in cluster[:2]:
        correction_create(meme=meme, label_set=sentiment, moderator=moderator, new_label="negative")
    photo = sample_photos()["china"]
    newcomer = upload(
        jpeg(captioned(photo, "WHEN THE BUILD PASSES", "ON THE FIRST TRY").resize((480, 320)))
    )
    predict(newcomer, version, {"positive": 0.9, "negative": 0.1})

    page = mod_client.get(_url(newcomer))
    html = page.content.decode()
    assert 'id="suggested-label">negative<' in html
    assert "(2 of 2 labelled)" in html
    # Suggested over the model's "positive", ready to confirm with Enter.
    assert page.context["form"].initial["label"] == "negative"
