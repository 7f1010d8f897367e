"""API test fixtures: token-authenticated clients for a plain user and a moderator."""

import pytest


@pytest.fixture(autouse=True)
def empty_throttle_cache():
    """Throttle counters live in the cache; no test inherits another's requests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def user_client(user):
    """A plain user (not a moderator) authenticated with a token."""
    from classifier.tests.api.helpers import token_client

    return token_client(user)


@pytest.fixture
def moderator(db, django_user_model):
    from django.contrib.auth.models import Group

    moderator = django_user_model.objects.create_user(username="mod", password="pw-12345!")
    moderator.groups.add(Group.objects.get(name="moderators"))
    return moderator


@pytest.fixture
def mod_client(moderator):
    from classifier.tests.api.helpers import token_client

    return token_client(moderator)


@pytest.fixture
def spare_version(sentiment):
    """A second, inactive sentiment version whose folder is the shipped model's (promotable)."""
    from classifier import services
    from conftest import SHIPPED_MODEL

    return services.model_version_register(
        label_set=sentiment,
        version="sentiment-api-spare",
        artifact_path=str(SHIPPED_MODEL),
        metrics={"accuracy": 0.71, "macro_f1": 0.69},
        training_counts={"positive": 10, "negative": 12},
    )
