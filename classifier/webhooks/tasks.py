"""django-q2 tasks for webhooks: they take ids and call a service."""

from classifier.webhooks import services


def webhook_event_dispatch(event_id: int) -> int:
    """Render an event and queue its deliveries; return how many were queued."""
    return len(services.webhook_event_dispatch(event_id=event_id))


def webhook_delivery_attempt(delivery_id: int) -> str:
    """Send one attempt of a delivery; return its status afterwards."""
    delivery = services.webhook_delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery is not None else "skipped"


def webhook_sweep() -> str:
    """Queue due retries and lost fan-outs (run on a schedule)."""
    events, deliveries = services.webhook_sweep()
    return f"{events} event(s), {deliveries} delivery(ies)"
