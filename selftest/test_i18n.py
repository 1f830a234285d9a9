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


def _every_text():
    """(where, text) for every learner-facing text: dojo's catalogue and katas.toml."""
    for key, langs in i18n.catalogue().items():
        for lang, text in langs.items():
            yield f"messages.toml [{key}].{lang}", text
    for kata in manifest.load(ROOT / "katas.toml").katas:
        texts = [("title", kata.title), ("lesson", kata.lesson)] + [(f"hints[{i}]", h) for i, h in enumerate(kata.hints)]
        texts += [(f"messages.{k}", v) for k, v in kata.messages.items()]
        texts += [(f"without.{m}.why", why) for m, (_methods, why) in kata.without.items()]
        for field, langs in texts:
            for lang, text in langs.items():
                yield f"katas.toml {kata.name}.{field}.{lang}", text


def test_no_learner_message_names_the_kits_internals_or_advice_a_dojo_user_cannot_follow():
    """Internal class and module names (the tests' wrappers), pytest options the loop does
    not take, output the loop never shows: none may reach a learner."""
    import re

    import dojo.toolkit

    internal = set()
    for path in Path(dojo.toolkit.__file__).parent.glob("*.py"):
        internal |= set(re.findall(r"^class (\w+)", path.read_text(encoding="utf-8"), re.M))
    internal = {name for name in internal if not name.startswith("_") and len(name) > 6}
    banned = [r"\bdojo\.toolkit\b", r"_dojo_", r"\buse -s\b", r"captured std(out|err)", r"\bProcess-\d"]
    found = []
    for where, text in _every_text():
        found += [f"{where}: {name}" for name in internal if re.search(rf"\b{name}\b", text)]
        found += [f"{where}: {pattern}" for pattern in banned if re.search(pattern, text)]
    assert not found, "learner messages name internals:\n  " + "\n  ".join(found)


# Texts that are the same in every language: nothing in them is words.
LANGUAGE_NEUTRAL = {
    "messages.toml [first_failure]": "placeholders and a mark only",
    "katas.toml pools3.hints[2]": "the last hint is a line of code",
}


def test_korean_texts_are_korean():
    """A ko text that is the English one, or has no Hangul at all, was not translated."""
    import re

    english = {}
    for where, text in _every_text():
        english.setdefault(where.rsplit(".", 1)[0], {})[where.rsplit(".", 1)[1]] = text
    untranslated = [where for where, langs in english.items() if "ko" in langs and langs["ko"].strip()
                    and (langs["ko"] == langs.get("en") and re.search(r"[A-Za-z]{4}", langs["ko"])
                         or not re.search(r"[\uac00-\ud7a3]", langs["ko"]) and re.search(r"[A-Za-z]{4}", langs["ko"]))]
    untranslated = [where for where in untranslated if where not in LANGUAGE_NEUTRAL]
    assert not untranslated, "not translated into Korean:\n  " + "\n  ".join(untranslated)
