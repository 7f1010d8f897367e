"""The OpenAPI schema documents every endpoint and its errors; the docs are served locally."""

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from memesense_site.urls import api_v1 as v1

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("/api/v1/memes/", "get"): {400, 401, 404, 429},
    ("/api/v1/memes/", "post"): {400, 401, 409, 413, 415, 429},
    ("/api/v1/memes/{meme_id}/", "get"): {401, 404, 429},
    ("/api/v1/memes/{meme_id}/retry/", "post"): {401, 404, 409, 429},
    ("/api/v1/memes/{meme_id}/corrections/", "post"): {400, 401, 403, 404, 409, 413, 415, 429},
    ("/api/v1/label-sets/", "get"): {401, 429},
    ("/api/v1/label-sets/{name}/rollback/", "post"): {400, 401, 403, 404, 409, 429},
    ("/api/v1/agreement/", "get"): {400, 401, 403, 404, 429},
    ("/api/v1/models/", "get"): {400, 401, 404, 429},
    ("/api/v1/models/{model_version_id}/promote/", "post"): {400, 401, 403, 404, 409, 429},
    ("/api/v1/classify/", "post"): {400, 401, 413, 415, 422, 429, 503},
    ("/api/v1/webhooks/", "get"): {401, 403, 429},
    ("/api/v1/webhooks/", "post"): {400, 401, 403, 429},
    ("/api/v1/webhooks/{subscription_id}/", "get"): {401, 403, 404, 429},
    ("/api/v1/webhooks/{subscription_id}/", "patch"): {400, 401, 403, 404, 429},
    ("/api/v1/webhooks/{subscription_id}/", "delete"): {401, 403, 404, 429},
    ("/api/v1/webhooks/{subscription_id}/ping/", "post"): {401, 403, 404, 429},
    ("/api/v1/webhooks/{subscription_id}/deliveries/", "get"): {401, 403, 404, 429},
    ("/api/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver/", "post"): {
        401,
        403,
        404,
        429,
    },
}


@pytest.fixture
def schema(api_client) -> dict:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi_3_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3")


def test_the_schema_has_every_endpoint_and_nothing_else(schema):
    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert documented == set(OPERATIONS)
    assert len({p.pattern._route for p in v1}) == len({path for path, _ in OPERATIONS})


@pytest.mark.parametrize(("path", "method"), sorted(OPERATIONS))
def test_every_operation_documents_its_errors(schema, path, method):
    operation = schema["paths"][path][method]
    codes = {int(code) for code in operation["responses"] if int(code) >= 400}
    assert codes == OPERATIONS[(path, method)]
    for code in codes:
        content = operation["responses"][str(code)]["content"]["application/json"]
        assert content["schema"]["$ref"].startswith("#/components/schemas/"), code
        assert operation["responses"][str(code)]["description"]
    assert operation["summary"]
    assert {"tokenAuth": []} in operation["security"]


def test_the_error_schema_has_code_detail_and_field(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "detail"}
    assert {"field", "fields"} <= set(error["properties"])


def test_the_schema_describes_auth_versioning_and_errors(schema):
    description = schema["info"]["description"]
    for words in ("Authorization: Token", "/api/v1/", '"error"', "Retry-After"):
        assert words in description
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}


@pytest.mark.parametrize(
    ("path", "asset"), [("/api/docs/", "swagger-ui-dist"), ("/api/redoc/", "redoc")]
)
def test_the_docs_are_served_from_local_static_files(api_client, path, asset):
    response = api_client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/static/drf_spectacular_sidecar/{asset}/" in html
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs"):
        assert cdn not in html
    assert "/api/schema/" in html
    bundle = "swagger-ui-bundle.js" if asset == "swagger-ui-dist" else "bundles/redoc.standalone.js"
    assert finders.find(f"drf_spectacular_sidecar/{asset}/{bundle}")


def test_the_docs_can_require_a_login(api_client, settings):
    settings.API_DOCS_PUBLIC = False
    for path in ("/api/schema/", "/api/docs/", "/api/redoc/"):
        assert api_client.get(path).status_code == 401


def test_the_schema_is_served_as_yaml_and_json(api_client):
    assert api_client.get("/api/schema/").content.startswith(b"openapi: 3")
    assert api_client.get("/api/schema/?format=json").json()["openapi"].startswith("3")
