"""Signed webhooks (Standard Webhooks): subscriptions, events, deliveries with retries.

Events are written in the same transaction as the change they report (an outbox), then a
django-q2 task renders each one once and a delivery per subscription is sent by its own
task, retried with backoff until it succeeds or runs out of attempts.

This package renders memes in the API's own representation (classifier.api.serializers,
with the fields moderation adds through classifier/extensions.py): moderation calls
`services.webhook_event_emit` for its events; nothing in classifier imports moderation.
"""

EVENT_TYPES = (
    "meme.classified",
    "meme.failed",
    "meme.labelled",
    "meme.auto_decided",
    "meme.auto_reverted",
    "model.promoted",
)
