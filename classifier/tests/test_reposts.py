"""Repost clusters on real photos: re-encoded, resized, cropped and recaptioned copies."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from classifier import services
from classifier.models import MemeHash, RepostCluster
from classifier.reposts import selectors
from classifier.tests.photos import captioned, crop, jpeg, sample_photos, upload
from classifier.validation import normalise_upload
from ml import near_duplicates as nd

pytestmark = pytest.mark.django_db

# shared/ lies beside the repository (as on the developers' machines and in CI).
MEMOTION = Path(__file__).resolve().parents[3] / "shared" / "data" / "memotion_7k" / "images"


def cluster_of(meme) -> int:
    return MemeHash.objects.get(meme=meme).cluster_id


@pytest.fixture
def photos() -> dict[str, Image.Image]:
    return sample_photos()


@pytest.fixture
def original(photos) -> Image.Image:
    return captioned(photos["china"], "WHEN THE BUILD PASSES", "ON THE FIRST TRY")


def test_it_hashes_every_upload_with_phash_and_dhash(original):
    meme = upload(jpeg(original))
    row = MemeHash.objects.get(meme=meme)
    with meme.image.open("rb") as fh:
        expected = nd.image_hashes(Image.open(fh).convert("RGB"))
    assert (nd.to_unsigned(row.phash), nd.to_unsigned(row.dhash)) == (
        expected.phash,
        expected.dhash,
    )
    assert (row.phash_band0, row.phash_band1, row.phash_band2, row.phash_band3) == nd.bands(
        expected.phash
    )
    assert row.matched is None  # the first of its kind starts a cluster


def test_it_clusters_a_meme_when_its_classification_task_runs_not_in_the_upload(
    original, active_model
):
    first = upload(jpeg(original), "first.jpg")
    image = normalise_upload(jpeg(original, quality=40), "repost.jpg")
    repost, _ = services.meme_create(image=image, uploader=None)
    # The upload itself stores no hash: the cluster lookup is the worker's job.
    assert not MemeHash.objects.filter(meme=repost).exists()
    services.meme_classify(meme_id=repost.pk)
    assert cluster_of(repost) == cluster_of(first)
    repost.refresh_from_db()
    assert repost.status == repost.Status.CLASSIFIED


def test_it_fails_a_meme_whose_stored_file_is_damaged_without_hashing_it(
    active_model, meme_factory
):
    meme = meme_factory()
    with meme.image.open("wb") as fh:  # the stored file damaged after the upload
        fh.write(b"not an image")
    services.meme_classify(meme_id=meme.pk)
    meme.refresh_from_db()
    assert not MemeHash.objects.filter(meme=meme).exists()
    assert meme.status == meme.Status.FAILED and "cannot open the image" in meme.failure_detail


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda img: jpeg(img, quality=25), id="re-encoded-jpeg-25"),
        pytest.param(lambda img: jpeg(img.resize((320, 213))), id="resized-half"),
        pytest.param(lambda img: jpeg(img.resize((1280, 854))), id="resized-double"),
        pytest.param(lambda img: jpeg(crop(img, 0.02)), id="cropped-2-percent-each-side"),
        pytest.param(
            lambda img: jpeg(crop(img, 0.03).resize((448, 299)), quality=60),
            id="cropped-resized-re-encoded",
        ),
    ],
)
def test_it_puts_a_repost_in_the_originals_cluster(original, variant):
    first = upload(jpeg(original), "first.jpg")
    repost = upload(variant(original), "repost.jpg")
    assert cluster_of(repost) == cluster_of(first)
    assert MemeHash.objects.get(meme=repost).matched_id == first.pk


def test_it_puts_a_recaption_of_the_same_template_in_one_cluster(photos):
    first = upload(jpeg(captioned(photos["china"], "ME ON MONDAY", "SEND HELP")))
    second = upload(jpeg(captioned(photos["china"], "NOBODY:", "ABSOLUTELY NOBODY")))
    assert cluster_of(second) == cluster_of(first)


def test_it_keeps_different_pictures_apart(photos):
    temple = upload(jpeg(captioned(photos["china"], "WHEN IT WORKS", "FIRST TIME")))
    flower = upload(jpeg(captioned(photos["flower"], "WHEN IT WORKS", "FIRST TIME")))
    # Other parts of the same photographs are other pictures.
    corner = upload(jpeg(photos["china"].crop((0, 0, 320, 213)).resize((640, 427))))
    petals = upload(jpeg(photos["flower"].crop((320, 213, 640, 427)).resize((640, 427))))
    clusters = {cluster_of(m) for m in (temple, flower, corner, petals)}
    assert len(clusters) == 4
    assert RepostCluster.objects.count() == 4


def test_it_does_not_take_a_heavy_crop_for_a_repost(original):
    # 15% off every side is a different framing, well past "slightly cropped".
    first = upload(jpeg(original))
    cropped = upload(jpeg(crop(original, 0.15)))
    assert cluster_of(cropped) != cluster_of(first)


@pytest.mark.skipif(not MEMOTION.is_dir(), reason="the Memotion images are not on this machine")
def test_it_clusters_real_memes_by_picture_not_by_name():
    names = ["image_1.jpg", "image_2.jpeg", "image_4.png", "image_5.png", "image_6.jpg"]
    memes = []
    for name in names:
        picture = Image.open(MEMOTION / name).convert("RGB")
        memes.append((upload(jpeg(picture), name), upload(jpeg(picture.resize((64, 64))), name)))
    for original_meme, smaller in memes:
        assert cluster_of(smaller) == cluster_of(original_meme)
    assert len({cluster_of(m) for m, _ in memes}) == len(names)


def test_it_finds_near_duplicates_through_the_band_index_only(original, photos):
    first = upload(jpeg(original))
    upload(jpeg(captioned(photos["flower"], "A", "B")))
    hashes = nd.image_hashes(Image.open(io.BytesIO(jpeg(original, quality=30))))
    matches = selectors.near_duplicates_of(hashes=hashes)
    assert [m.meme_id for m in matches] == [first.pk]


def test_it_backfills_memes_stored_before_clusters(original, photos):
    first = upload(jpeg(original))
    repost = upload(jpeg(original.resize((320, 213))))
    other = upload(jpeg(photos["flower"]))
    MemeHash.objects.all().delete()
    RepostCluster.objects.all().delete()

    out = io.StringIO()
    call_command("backfill_clusters", stdout=out)
    assert "hashed 3 meme(s), 0 failed" in out.getvalue()
    assert cluster_of(first) == cluster_of(repost) != cluster_of(other)

    out = io.StringIO()
    call_command("backfill_clusters", "--recluster", stdout=out)
    assert "hashed 0 meme(s)" in out.getvalue() and "regrouped 3 meme(s)" in out.getvalue()
    assert cluster_of(first) == cluster_of(repost) != cluster_of(other)


def test_the_meme_page_shows_reposts_and_the_label_moderators_gave_them(
    client, staff_user, original, sentiment
):
    from moderation.services import correction_create

    client.force_login(staff_user)
    first = upload(jpeg(original))
    correction_create(meme=first, label_set=sentiment, moderator=staff_user, new_label="negative")
    repost = upload(jpeg(crop(original, 0.02)))
    page = client.get(reverse("classifier:meme_detail", args=[repost.pk])).content.decode()
    assert "1 repost<" in page
    assert first.image.url in page
    assert 'id="suggested-label-sentiment">negative<' in page
    assert "1 of the 1 labelled repost" in page
