"""Moderation's part of the REST API, under the same /api/v1/ namespace as classifier's.

Moderation serves its own endpoints here (corrections, moderator agreement, promote and
rollback), and memesense_site/urls.py assembles them with classifier's under `api:`.

A meme's representation (GET /memes/, the detail, uploads, webhook payloads) embeds
moderators' data: the corrected `text`, the standing `human_labels`, the repost
`suggested_labels` and the `human_label=` filter. Those endpoints stay classifier's (an
upload is classifier's business and webhooks send the same shape), so moderation adds its
fields through classifier's extension registry (classifier/extensions.py) instead:
`extension.ModerationMemeExtension` is registered by ModerationConfig.ready. That keeps
dependencies one way (moderation -> classifier), keeps the contract in one place (the
field order is the meme serializer's) and keeps the serializers free of queries: the
extension prefetches corrections with the memes and works out blind second reviews and
suggestions once per response.
"""
