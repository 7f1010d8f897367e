"""Helpers for the API tests."""


def token_client(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def error_of(response) -> dict:
    """The JSON error body, checked for the shape every API error has."""
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = response.json()
    assert set(body) >= {"error", "detail"}, body
    assert isinstance(body["error"], str) and isinstance(body["detail"], str)
    return body
