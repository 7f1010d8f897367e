"""Every moderation URL needs a login and the moderators' permission."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from moderation.tests.factories import make_user, predicted_meme

# (method, url name, argument: False for none, True for a meme id, "version" for a model
# version id, or another string)
URLS = [
    ("get", "moderation:dashboard", False),
    ("get", "moderation:queue", False),
    ("post", "moderation:queue_next", False),
    ("post", "moderation:bulk", False),
    ("get", "moderation:review", True),
    ("post", "moderation:review", True),
    ("get", "moderation:confusion_plot", False),
    ("get", "moderation:reliability_plot", False),
    ("get", "moderation:export_csv", False),
    ("get", "moderation:export_jsonl", False),
    ("post", "moderation:retrain", False),
    ("post", "moderation:auto_policy", False),
    ("post", "moderation:auto_revert", True),
    ("post", "moderation:undo", False),
    ("post", "moderation:reopen", True),
    ("get", "moderation:search", False),
    ("get", "moderation:moderator", "mod"),
    ("get", "moderation:label_sets", False),
    ("post", "moderation:label_sets", False),
    ("get", "moderation:label_set", "sentiment"),
    ("post", "moderation:label_set_import", "sentiment"),
    ("post", "moderation:version_promote", "version"),
    ("post", "moderation:version_rollback", False),
]
# These need the promote permission on top of the moderators' (test_promotion.py).
PROMOTION = {"moderation:version_promote", "moderation:version_rollback"}


@pytest.fixture
def meme(version):
    return predicted_meme(version, 0.4)


def _url(name, needs_meme, meme):
    if needs_meme == "version":
        return reverse(name, args=[meme.predictions.get().model_version_id])
    if isinstance(needs_meme, str):
        return reverse(name, args=[needs_meme])
    return reverse(name, args=[meme.pk] if needs_meme else [])


def _call(client, method, url, sentiment):
    data = {"label_set": sentiment.name}
    if method == "post":
        return client.post(f"{url}?label_set={sentiment.name}", data)
    return client.get(url, data)


def test_it_covers_every_moderation_url():
    from moderation.urls import urlpatterns

    assert {f"moderation:{p.name}" for p in urlpatterns} == {name for _, name, _ in URLS}


@pytest.mark.parametrize(("method", "name", "needs_meme"), URLS)
def test_it_sends_anonymous_users_to_log_in(client, meme, sentiment, method, name, needs_meme):
    url = _url(name, needs_meme, meme)
    response = _call(client, method, url, sentiment)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("method", "name", "needs_meme"), URLS)
def test_it_forbids_users_who_are_not_moderators(client, meme, sentiment, method, name, needs_meme):
    client.force_login(make_user("visitor"))
    response = _call(client, method, _url(name, needs_meme, meme), sentiment)
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "name", "needs_meme"), URLS)
def test_it_lets_moderators_in(
    client, moderator, promoter, meme, sentiment, method, name, needs_meme
):
    client.force_login(promoter if name in PROMOTION else moderator)
    response = _call(client, method, _url(name, needs_meme, meme), sentiment)
    # Redirects are the normal answer of the POST endpoints (to the next meme or
    # back to the queue); a 400 is a form error and a 409 the promotion's confirmation
    # page, both past the permission check.
    assert response.status_code in (200, 302, 400, 409)


def test_it_creates_the_moderators_group_with_the_permission(db):
    group = Group.objects.get(name="moderators")
    assert group.permissions.filter(
        codename="moderate", content_type__app_label="moderation"
    ).exists()


def test_it_grants_the_permission_through_the_group(db):
    user = make_user("newcomer", moderator=True)
    assert user.has_perm("moderation.moderate")
    assert not make_user("other").has_perm("moderation.moderate")


def test_it_keeps_corrections_out_of_the_site_for_non_moderators(client, meme, sentiment):
    client.force_login(make_user("visitor"))
    response = client.post(
        reverse("moderation:review", args=[meme.pk]) + "?label_set=sentiment",
        {"action": "confirm", "label": "positive"},
    )
    assert response.status_code == 403
    assert not meme.corrections.exists()
