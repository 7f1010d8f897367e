"""The API's client fixtures (classifier/tests/api/conftest.py), for moderation's endpoints.

Imported, not copied: these tests moved here with the views they test, and the API's clients
(a token moderator named `mod`, not the review page's session client) stay defined once.
"""

from classifier.tests.api.conftest import (  # noqa: F401 (fixtures)
    api_client,
    empty_throttle_cache,
    mod_client,
    moderator,
    spare_version,
    user_client,
)
