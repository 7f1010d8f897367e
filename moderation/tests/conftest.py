"""Moderation fixtures; media_root and sentiment come from the root conftest.py."""

import pytest

# Factories import Django models, so they are imported inside the fixtures: this
# conftest is loaded before pytest-django has set Django up.


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Render templates without collectstatic (the manifest storage needs its run)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def version(sentiment):
    """An active sentiment model version of our own, whatever else is registered."""
    from moderation.tests.factories import make_version

    return make_version(sentiment, "sentiment-test-v1", metrics={"accuracy": 0.71})


@pytest.fixture
def moderator(db):
    from moderation.tests.factories import make_user

    return make_user("mod", moderator=True)


@pytest.fixture
def other_moderator(db):
    from moderation.tests.factories import make_user

    return make_user("mod2", moderator=True)


@pytest.fixture
def mod_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def label_memes(moderator):
    """label_memes(label_set, {class: n}): n new memes per class, each labelled by a moderator."""
    from moderation.services import correction_create
    from moderation.tests.factories import make_meme

    def make(label_set, counts: dict[str, int]) -> list:
        memes = []
        for label, n in counts.items():
            for _ in range(n):
                meme = make_meme(ocr_text=f"a {label} meme")
                correction_create(
                    meme=meme, label_set=label_set, moderator=moderator, new_label=label
                )
                memes.append(meme)
        return memes

    return make
