"""Review leases: a meme being reviewed is not served to a second moderator."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from moderation.models import ReviewLease
from moderation.selectors.queue import queue_memes
from moderation.services import (
    LeaseHeldError,
    correction_create,
    review_lease_acquire,
    review_lease_next,
    review_skip,
)
from moderation.tests.factories import predicted_meme


@pytest.fixture
def two_memes(version):
    return predicted_meme(version, 0.49), predicted_meme(version, 0.2)


def test_it_serves_two_moderators_different_memes(sentiment, two_memes, moderator, other_moderator):
    first = review_lease_next(label_set=sentiment, moderator=moderator)
    second = review_lease_next(label_set=sentiment, moderator=other_moderator)
    assert first == two_memes[0]
    assert second == two_memes[1]
    assert review_lease_next(label_set=sentiment, moderator=moderator) == two_memes[0]


def test_it_hides_a_leased_meme_from_others_only(sentiment, two_memes, moderator, other_moderator):
    review_lease_acquire(meme=two_memes[0], label_set=sentiment, moderator=moderator)
    mine = [m.pk for m in queue_memes(label_set=sentiment, moderator=moderator)]
    theirs = [m.pk for m in queue_memes(label_set=sentiment, moderator=other_moderator)]
    assert two_memes[0].pk in mine
    assert theirs == [two_memes[1].pk]


def test_it_refuses_a_lease_someone_else_holds(sentiment, two_memes, moderator, other_moderator):
    review_lease_acquire(meme=two_memes[0], label_set=sentiment, moderator=moderator)
    with pytest.raises(LeaseHeldError) as caught:
        review_lease_acquire(meme=two_memes[0], label_set=sentiment, moderator=other_moderator)
    assert caught.value.lease.moderator == moderator


def test_it_lets_an_expired_lease_go(sentiment, two_memes, moderator, other_moderator, settings):
    settings.MODERATION_LEASE_SECONDS = 60
    past = timezone.now() - dt.timedelta(minutes=5)
    review_lease_acquire(meme=two_memes[0], label_set=sentiment, moderator=moderator, now=past)
    lease = review_lease_acquire(meme=two_memes[0], label_set=sentiment, moderator=other_moderator)
    assert lease.moderator == other_moderator
    assert ReviewLease.objects.count() == 1


def test_it_holds_one_lease_per_moderator(sentiment, two_memes, moderator):
    review_lease_acquire(meme=two_memes[0], label_set=sentiment, moderator=moderator)
    review_lease_acquire(meme=two_memes[1], label_set=sentiment, moderator=moderator)
    assert list(ReviewLease.objects.values_list("meme_id", flat=True)) == [two_memes[1].pk]


def test_it_releases_the_lease_on_a_decision(sentiment, two_memes, moderator, other_moderator):
    review_lease_acquire(meme=two_memes[0], label_set=sentiment, moderator=moderator)
    correction_create(
        meme=two_memes[0], label_set=sentiment, moderator=moderator, new_label="negative"
    )
    assert not ReviewLease.objects.exists()


def test_a_skip_frees_the_meme_for_others_but_not_for_me(
    sentiment, two_memes, moderator, other_moderator
):
    review_lease_acquire(meme=two_memes[0], label_set=sentiment, moderator=moderator)
    review_skip(meme=two_memes[0], label_set=sentiment, moderator=moderator)
    assert review_lease_next(label_set=sentiment, moderator=moderator) == two_memes[1]
    assert review_lease_next(label_set=sentiment, moderator=other_moderator) == two_memes[0]


def test_the_queue_page_hides_what_another_moderator_reviews(
    client, sentiment, two_memes, moderator, other_moderator
):
    client.force_login(other_moderator)
    client.get(reverse("moderation:review", args=[two_memes[0].pk]), {"label_set": "sentiment"})
    client.force_login(moderator)
    response = client.get(reverse("moderation:queue"), {"label_set": "sentiment"})
    assert [m.pk for m in response.context["page"]] == [two_memes[1].pk]
    assert response.context["counts"].leased_by_others == 1
    assert b"being reviewed by other moderators" in response.content


def test_next_gives_two_moderators_different_memes_over_http(
    client, sentiment, two_memes, moderator, other_moderator
):
    locations = []
    for user in (moderator, other_moderator):
        client.force_login(user)
        response = client.post(reverse("moderation:queue_next"), {"label_set": "sentiment"})
        assert response.status_code == 302
        locations.append(response["Location"])
    assert reverse("moderation:review", args=[two_memes[0].pk]) in locations[0]
    assert reverse("moderation:review", args=[two_memes[1].pk]) in locations[1]


def test_the_review_page_warns_when_someone_else_holds_the_meme(
    client, sentiment, two_memes, moderator, other_moderator
):
    review_lease_acquire(meme=two_memes[0], label_set=sentiment, moderator=other_moderator)
    client.force_login(moderator)
    response = client.get(
        reverse("moderation:review", args=[two_memes[0].pk]), {"label_set": "sentiment"}
    )
    assert response.status_code == 200
    assert b"mod2 is reviewing this meme right now" in response.content
    assert ReviewLease.objects.get().moderator == other_moderator


def test_a_skip_expires(sentiment, two_memes, moderator, settings):
    settings.MODERATION_SKIP_SECONDS = 60
    review_skip(meme=two_memes[0], label_set=sentiment, moderator=moderator)
    later = timezone.now() + dt.timedelta(minutes=2)
    assert review_lease_next(label_set=sentiment, moderator=moderator, now=later) == two_memes[0]
