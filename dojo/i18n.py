"""English and Korean messages from one catalogue.

dojo's own messages live in ``dojo/messages.toml``; a kit's teaching messages live with
each kata in ``katas.toml`` (``[kata.messages]``), so an instructor adds a kata without
touching dojo. Both use the same shape, ``key = { en = "...", ko = "..." }``, and
``selftest/test_i18n.py`` checks that no key is missing a language.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from dojo import _toml

LANGS = ("en", "ko")
CATALOGUE = Path(__file__).with_name("messages.toml")


def current_lang() -> str:
    """DOJO_LANG if set, else the locale (LC_ALL, LC_MESSAGES, LANG); English by default."""
    explicit = os.environ.get("DOJO_LANG", "").strip().lower()
    if explicit:
        return explicit[:2] if explicit[:2] in LANGS else "en"
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


@lru_cache(maxsize=1)
def catalogue() -> dict:
    return _toml.loads(CATALOGUE.read_text(encoding="utf-8"))


def pick(text: dict, lang: str | None = None) -> str:
    """The text in ``lang`` from an ``{en, ko}`` table, falling back to English."""
    lang = lang or current_lang()
    return text.get(lang) or text.get("en", "")


def fill(template: str, fields: dict) -> str:
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError):
        # A catalogue typo must never hide the failure it was meant to explain.
        return template + "  " + repr(fields)


def t(key: str, lang: str | None = None, **fields) -> str:
    """dojo's own message ``key`` in the current language, with ``fields`` filled in."""
    entry = catalogue().get(key)
    if entry is None:
        return key + (" " + repr(fields) if fields else "")
    return fill(pick(entry, lang), fields)


def missing_keys(table: dict) -> list[str]:
    """Keys of a catalogue-shaped table that lack a language."""
    return [
        f"{key}.{lang}"
        for key, entry in table.items()
        for lang in LANGS
        if not isinstance(entry, dict) or not str(entry.get(lang, "")).strip()
    ]
