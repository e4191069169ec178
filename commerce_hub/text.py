"""Small guards for text that arrives from users, shared by every app."""

MAX_ID = 2**63 - 1  # Postgres bigint


def is_id(value) -> bool:
    """A database id written as ASCII digits within bigint range. str.isdigit() alone accepts '²' and '٣'."""
    text = str(value)
    # The length first: int() refuses text of more than 4300 digits with an error, and no id has more than 19.
    return text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= MAX_ID


def ids_from(values, *, limit: int = 500) -> list[int]:
    return [int(v) for v in values if is_id(v)][:limit]


def clean_search(value: str, *, max_length: int = 100) -> str:
    """Search text as Postgres accepts it: no NUL characters, trimmed and bounded."""
    return value.replace("\x00", "").strip()[:max_length]


def csv_safe(value) -> str:
    """A cell a spreadsheet will not run as a formula (=, +, -, @, tab or carriage return at the start).
    Plain numbers such as -12.50 stay numbers."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text
