"""The `<id:...>` path converter: a row id from 1 to 2**63 - 1, anything else a 404.

Django's `int` converter takes any run of digits, and a 20-digit id then overflows the
database's 64-bit integer (OverflowError on SQLite, NumericValueOutOfRange on PostgreSQL)
as a 500. Out of range here means the URL does not match: the same 404 as an unknown id.
"""

from django.urls import register_converter

MAX_ID = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValueError(f"{value} is not a row id")
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


# Registered on import: every URLconf that uses <id:...> imports this module first, so
# the converter exists whichever URLconf is loaded first (tests import some directly).
register_converter(IdConverter, "id")
