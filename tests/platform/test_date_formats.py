"""Dates as European tenants write them: English day-first and unambiguous, Dutch and Norwegian their own way."""

import datetime

import pytest
from django.template import Context, Template
from django.utils import formats, translation

DAY = datetime.date(2026, 12, 4)


@pytest.mark.parametrize(
    ("language", "short", "long"),
    [
        ("en", "4 Dec 2026", "4 December 2026"),
        ("nl", "4-12-2026", "4 december 2026"),
        ("nb", "04.12.2026", "4. desember 2026"),
    ],
)
def test_dates_follow_the_languages_european_conventions(language, short, long):
    with translation.override(language):
        assert formats.date_format(DAY, "SHORT_DATE_FORMAT") == short
        assert formats.date_format(DAY, "DATE_FORMAT") == long
        rendered = Template("{{ day|date:'SHORT_DATE_FORMAT' }}|{{ day }}").render(Context({"day": DAY}))
        assert rendered == f"{short}|{long}"


def test_english_never_shows_a_us_date():
    with translation.override("en"):
        rendered = Template("{{ day|date:'SHORT_DATE_FORMAT' }} {{ day|date }} {{ when }}").render(
            Context({"day": DAY, "when": datetime.datetime(2026, 12, 4, 9, 30)})
        )
    assert "12/04/2026" not in rendered and "Dec. 4" not in rendered and "a.m." not in rendered
    assert rendered == "4 Dec 2026 4 December 2026 4 December 2026, 09:30"


def test_english_reads_day_first_dates_typed_in_a_form():
    from django import forms

    with translation.override("en"):
        field = forms.DateField()
        assert field.clean("2026-12-04") == DAY
        assert field.clean("04/12/2026") == DAY
