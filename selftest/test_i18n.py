"""English and Korean: no message key may lack a language."""

from pathlib import Path

from dojo import i18n, manifest

ROOT = Path(__file__).resolve().parent.parent


def test_dojos_own_catalogue_has_every_key_in_both_languages():
    assert i18n.missing_keys(i18n.catalogue()) == []


def test_every_kata_text_and_teaching_message_has_both_languages():
    m = manifest.load(ROOT / "katas.toml")  # validation fails on any missing language
    for kata in m.katas:
        assert i18n.missing_keys(kata.messages) == [], kata.name


def test_dojo_lang_picks_the_language(monkeypatch):
    monkeypatch.setenv("DOJO_LANG", "ko")
    assert i18n.current_lang() == "ko"
    assert "초" in i18n.t("hang", kata="k", seconds="1", where="w")


def test_the_locale_picks_korean_when_dojo_lang_is_unset(monkeypatch):
    monkeypatch.delenv("DOJO_LANG", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    assert i18n.current_lang() == "ko"
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert i18n.current_lang() == "en"


def test_an_unknown_language_falls_back_to_english(monkeypatch):
    monkeypatch.setenv("DOJO_LANG", "fr")
    assert i18n.current_lang() == "en"


def test_a_bad_template_never_hides_the_message():
    assert i18n.fill("got {got} want {want}", {"got": 1}).startswith("got {got} want {want}")
