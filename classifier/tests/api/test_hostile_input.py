"""Input that used to answer 500: unknown formats, ids past 64 bits, over-deep JSON."""

import json

import pytest

from classifier.tests.api.helpers import error_of

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    "url", ["/api/v1/memes/", "/api/v1/memes/1/", "/api/schema/", "/api/v1/nothing/"]
)
def test_an_unknown_format_answers_a_json_404_even_to_anonymous_callers(api_client, url):
    response = api_client.get(f"{url}?format=xyz")
    assert response.status_code == 404
    assert error_of(response)["error"] == "not_found"


@pytest.mark.parametrize("meme_id", [HUGE, "9223372036854775808", "-1", "0", "abc"])
def test_out_of_range_ids_answer_404_in_api_and_page_urls(user_client, client, user, meme_id):
    client.force_login(user)
    for url in (f"/api/v1/memes/{meme_id}/", f"/api/v1/models/{meme_id}/promote/"):
        response = user_client.get(url) if "promote" not in url else user_client.post(url)
        assert response.status_code == 404, url
        assert error_of(response)["error"] == "not_found"
    for url in (f"/memes/{meme_id}/", f"/moderation/review/{meme_id}/"):
        assert client.get(url).status_code == 404, url


def test_a_100000_deep_json_array_is_a_400_not_a_recursion_error(mod_client, meme_factory):
    meme = meme_factory()
    body = "[" * 100_000 + "]" * 100_000
    response = mod_client.post(
        f"/api/v1/memes/{meme.pk}/corrections/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert error_of(response)["error"] == "parse_error"
    assert "nested too deeply" in error_of(response)["detail"]


def test_a_json_body_over_the_limit_is_refused_unread(mod_client, meme_factory):
    meme = meme_factory()
    body = json.dumps({"label_set": "sentiment", "text": "x" * (300 * 1024)})
    response = mod_client.post(
        f"/api/v1/memes/{meme.pk}/corrections/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert error_of(response)["error"] == "too_large"


def test_bulk_ids_past_64_bits_are_a_form_error_not_an_overflow(
    client, moderator, sentiment, meme_factory
):
    client.force_login(moderator)
    response = client.post(
        "/moderation/queue/bulk/",
        {"label_set": "sentiment", "action": "confirm", "memes": [HUGE]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Bad meme id." in response.content.decode()


def test_a_huge_seen_correction_on_the_review_form_is_a_400(client, moderator, meme_factory):
    client.force_login(moderator)
    meme = meme_factory()
    response = client.post(
        f"/moderation/review/{meme.pk}/?label_set=sentiment",
        {"action": "confirm", "label": "positive", "seen_correction": HUGE},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "url",
    ["/api/v1/memes/?label_set=%00", "/api/v1/models/?label_set=a%00b", "/api/v1/memes/?%00=1"],
)
def test_a_nul_character_in_the_query_is_a_json_400(user_client, url):
    # PostgreSQL refuses strings with NUL in them (a 500 there, never on SQLite).
    response = user_client.get(url)
    assert response.status_code == 400
    assert error_of(response)["error"] == "parse_error"


def test_a_nul_character_in_a_page_query_is_a_400(client, moderator):
    client.force_login(moderator)
    for url in ("/moderation/queue/?label_set=%00", "/moderation/export.csv?label_set=%00"):
        assert client.get(url).status_code == 400, url


def test_a_nul_character_in_a_page_path_is_a_400(client, moderator):
    # A <str:…> URL argument reaches the database as it is (found on PostgreSQL: a 500).
    client.force_login(moderator)
    assert client.get("/moderation/moderators/abc%00/").status_code == 400
