"""What the OpenAPI document says about the API as a whole (info.description, enum names)."""

from classifier.models import Meme
from classifier.webhooks.models import WebhookDelivery

# Memes and webhook deliveries both have a `status` field; without a name for each choice
# set drf-spectacular makes one up (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
MEME_STATUS_CHOICES = Meme.Status.choices
WEBHOOK_DELIVERY_STATUS_CHOICES = WebhookDelivery.Status.choices

DESCRIPTION = """\
Platforms push memes to Memesense and read the verdicts back; moderation tools act through it too.

**Versioning.** Every endpoint is under `/api/v1/`. A change that breaks clients gets a new
prefix (`/api/v2/`); `/api/v1/` keeps answering as documented here.

**Authentication.** Send a token: `Authorization: Token <key>`. An administrator makes one with
`python manage.py drf_create_token <username>`. A logged-in browser session works too (the
browsable API); its writes need the CSRF token. Every endpoint needs a user: without one it
answers 401. Correcting labels needs the moderators' permission (`moderation.moderate`, the
`moderators` group); promoting a model version needs `classifier.promote_modelversion`; other
users get 403.

**Upload, poll, correct.** `POST /api/v1/memes/` (multipart: `image`, optional `text`) answers
202 with the meme's `id`, `status` and `url`, or 200 with the existing meme when the same bytes
were uploaded before. Poll `url` until `status` is `classified` (see `predictions`) or `failed`
(see `failure_reason`), or subscribe to webhooks (`/api/v1/webhooks/`, staff) and be told:
signed per Standard Webhooks, retried, see docs/integration.md. Moderators correct with
`POST /api/v1/memes/{id}/corrections/`.

**Errors.** Every error answers JSON: `{"error": "<code>", "detail": "<message>"}`, plus
`"field"` (the request field to blame) and `"fields"` (every invalid field) for validation
errors. 400 invalid input, 401 no or bad credentials, 403 not allowed, 404 not found,
409 conflict, 413 too large, 415 unsupported type, 429 throttled.

**Throttling.** Per user and scope: `uploads` (POST /memes/), `classify` (POST /classify/) and
`api` (everything else); the rates are settings (API_THROTTLE_*). Past the rate the answer is 429
with a `Retry-After` header (seconds).
"""


def add_description(result, generator, request, public):
    """drf-spectacular postprocessing hook: put DESCRIPTION in info."""
    result["info"]["description"] = DESCRIPTION
    return result
