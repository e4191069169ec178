"""Numbers as people type them, read in their language's notation by every form and import."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from commerce_hub.numbers import parse_decimal_localized


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("nl", "1.234,50", Decimal("1234.50")),
        ("nl", "0,5", Decimal("0.5")),
        ("nb", "1 234,50", Decimal("1234.50")),
        ("nb", "1\u00a0234,50", Decimal("1234.50")),
        ("nb", "1\u202f234,50", Decimal("1234.50")),
        ("en", "1,234.50", Decimal("1234.50")),
        ("nl", "1234.50", Decimal("1234.50")),  # a plain number reads the same in every language
        ("nb", "-12.5", Decimal("-12.5")),
        ("en", " 7 ", Decimal("7")),
    ],
)
def test_reads_the_notation_of_the_current_language(language, text, expected):
    with translation.override(language):
        assert parse_decimal_localized(text) == expected


@pytest.mark.parametrize(("language", "text"), [("en", "abc"), ("en", "NaN"), ("en", "Infinity"), ("en", "1,5,5")])
def test_refuses_what_is_not_a_number_with_the_cell_in_the_message(language, text):
    with translation.override(language), pytest.raises(ValidationError) as caught:
        parse_decimal_localized(text)
    assert caught.value.messages == [f"“{text}” is not a number."]
