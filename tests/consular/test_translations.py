"""Every French catalogue is complete: an empty or fuzzy entry (which compilemessages leaves
out) shows English to a French reader."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(
    path
    for path in ROOT.glob("*/locale/fr/LC_MESSAGES/django.po")
    if not path.is_relative_to(ROOT / ".venv")
)


def _entries(path: Path) -> list[str]:
    # Entries are separated by blank lines; the first one is the catalogue's header.
    return path.read_text(encoding="utf-8").strip().split("\n\n")[1:]


def test_there_are_french_catalogues():
    assert len(CATALOGUES) >= 5


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: path.parts[-5])
def test_a_french_catalogue_has_no_fuzzy_or_empty_entry(path):
    problems = []
    for entry in _entries(path):
        if entry.startswith("#~"):
            continue
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in entry.splitlines())
        # An untranslated entry ends with an empty msgstr (a plural's last form, too).
        empty = re.search(r'msgstr(\[\d\])? ""\Z', entry) is not None
        if fuzzy or empty:
            problems.append(entry)
    assert problems == []
