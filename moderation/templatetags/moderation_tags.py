from django import template

register = template.Library()


@register.filter
def metric(value) -> str:
    """Show a metric compactly: floats to three places, anything else as is."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


@register.filter
def percent(value) -> str:
    if value is None:
        return "—"
    return f"{100 * float(value):.1f}%"
