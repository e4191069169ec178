"""Every string the interface shows exists in Dutch and Norwegian Bokmål, and the compiled catalogs are current."""

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parents[2] / "locale"


@pytest.mark.parametrize("language", ["nl", "nb"])
def test_catalog_is_complete_and_compiled(language):
    po_path = LOCALE / language / "LC_MESSAGES" / "django.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    messages = [m for m in catalog if m.id]
    assert len(messages) >= 300
    untranslated = [m.id for m in messages if not m.string or (isinstance(m.string, tuple) and not all(m.string))]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert untranslated == [] and fuzzy == []
    with (po_path.with_suffix(".mo")).open("rb") as handle:
        compiled = read_mo(handle)

    def same(compiled_string, source_string):
        # read_mo gives plural forms as a list, read_po as a tuple.
        if isinstance(compiled_string, list | tuple):
            return tuple(compiled_string) == tuple(source_string)
        return compiled_string == source_string

    def compiled_of(m):  # a message with a context (pgettext) is found with it
        return compiled.get(m.id, m.context)

    stale = [m.id for m in messages if compiled_of(m) is None or not same(compiled_of(m).string, m.string)]
    assert stale == [], "run `make messages` to compile the catalog"
