"""English as people write it: plurals through ngettext or blocktranslate count, never "(s)"; whole sentences, never
a fragment glued into another sentence; one word for one thing."""

import re
from pathlib import Path

from commerce_hub.accounts.ratelimit import LIMITS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    path
    for folder in ("commerce_hub", "crm", "billing", "payments", "integrations", "templates")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in {".py", ".html", ".txt"} and "migrations" not in path.parts
]
# A translatable string: _("..."), gettext*("..."), {% translate "..." %} or a blocktranslate body.
TRANSLATABLE = re.compile(
    r"""(?:\b_L?|gettext(?:_lazy)?|ngettext(?:_lazy)?|pgettext(?:_lazy)?)\(\s*"([^"]*)"|"""
    r"""{%\s*translate\s+"([^"]*)"|{%\s*blocktranslate[^%]*%}(.*?){%\s*(?:plural|endblocktranslate)""",
    re.S,
)


def _strings():
    for path in SOURCES:
        for match in TRANSLATABLE.finditer(path.read_text(errors="replace")):
            yield path.relative_to(ROOT), next(group for group in match.groups() if group is not None)


def test_no_translatable_string_pluralises_with_s_in_brackets():
    assert [(str(path), text) for path, text in _strings() if "(s)" in text] == []


def test_no_sentence_is_built_from_a_translated_fragment():
    fragments = {
        "{{ kind }} signature of {{ name }}",  # the signature certificate: Drawn / Typed signature of ...
        "deals in %(pipeline)s move to %(stage)s",  # quote settings summary
        "You tried {{ what }} too often",  # the 429 page
    }
    assert [(str(path), text) for path, text in _strings() if text.strip() in fragments or "{{ what }}" in text] == []


def test_each_rate_limit_says_what_was_limited_in_a_whole_sentence_with_a_plural():
    for limit in LIMITS.values():
        assert str(limit.message % {"count": 1}).endswith("Wait 1 minute and try again.")
        assert str(limit.message % {"count": 5}).endswith("Wait 5 minutes and try again.")


def test_an_email_proven_by_a_code_is_called_verified_everywhere():
    assert [
        (str(path), text) for path, text in _strings() if "Email confirmed" in text or "email confirmed" in text
    ] == []
