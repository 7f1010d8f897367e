from django import template

register = template.Library()


@register.filter
def metric(value) -> str:
    """Show a metric compactly: floats to three places, anything else as is."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {metric(item)}" for key, item in value.items())
    return str(value)


@register.filter
def without(mapping, keys: str) -> list[tuple]:
    """The items of a dict except the comma-separated keys."""
    if not isinstance(mapping, dict):
        return []
    left_out = set(keys.split(","))
    return [(key, value) for key, value in mapping.items() if key not in left_out]


@register.filter
def percent(value) -> str:
    if value is None:
        return "—"
    return f"{100 * float(value):.1f}%"


@register.filter
def zipped(first, second) -> list[tuple]:
    """Pairs of two lists side by side, e.g. each count with its column's name."""
    return list(zip(first, second, strict=True))
