"""The manifest: the kit's own validates, the schema's example validates, and every
mistake is reported with the field it is in."""

import re
from pathlib import Path

import pytest

from dojo import _toml, manifest

ROOT = Path(__file__).resolve().parent.parent


def good() -> dict:
    return {
        "schema": 1,
        "track": [{"id": "seed", "title": {"en": "Seed", "ko": "씨앗"}}],
        "kata": [
            {
                "name": "shared1",
                "track": "seed",
                "points": 2,
                "fails_on": ["fork", "spawn"],
                "title": {"en": "T", "ko": "제목"},
                "lesson": {"en": "L", "ko": "교훈"},
                "hints": [{"en": "a", "ko": "가"}, {"en": "b", "ko": "나"}],
            }
        ],
    }


def problems(data) -> list:
    with pytest.raises(manifest.ManifestError) as excinfo:
        manifest.parse(data, Path("katas.toml"))
    return excinfo.value.problems


def test_the_kits_own_manifest_is_valid():
    m = manifest.load(ROOT / "katas.toml")
    assert len(m.katas) >= 16
    assert m.names()[0] == "processes1"


def test_the_documented_example_is_valid():
    text = (ROOT / "MANIFEST.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    m = manifest.parse(_toml.loads(example), Path("MANIFEST.md"))
    assert m.get("shared1").messages["lost"]["ko"]


def test_a_valid_manifest_gives_katas_with_their_failing_methods():
    kata = manifest.parse(good(), Path("katas.toml")).get("shared1")
    assert kata.fails_on_for("3.11") == ("fork", "spawn")
    assert kata.processes is True


def test_fails_on_may_depend_on_the_python_version():
    data = good()
    data["kata"][0]["fails_on"] = {"default": ["fork"], "3.10": ["fork", "spawn"]}
    kata = manifest.parse(data, Path("katas.toml")).get("shared1")
    assert kata.fails_on_for("3.10") == ("fork", "spawn")
    assert kata.fails_on_for("3.12") == ("fork",)


def test_a_system_without_a_means_uses_the_katas_entry_for_it_and_says_why(monkeypatch):
    from dojo import system

    data = good()
    why = {"en": "no affinity here", "ko": "여기는 친화도가 없음"}
    data["kata"][0]["without"] = {"affinity": {"fails_on": [], "why": why}}
    kata = manifest.parse(data, Path("katas.toml")).get("shared1")
    monkeypatch.setattr(system, "AFFINITY", True)
    assert kata.fails_on_for("3.11") == ("fork", "spawn") and kata.notes_here() == []
    monkeypatch.setattr(system, "AFFINITY", False)
    assert kata.fails_on_for("3.11") == () and kata.notes_here() == [why]



@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda d: d["kata"][0]["hints"].pop(), "kata[0] 'shared1'.hints: needs at least two tiered hints"),
        (lambda d: d["kata"][0]["hints"][1].pop("ko"), "kata[0] 'shared1'.hints[1].ko: missing"),
        (lambda d: d["kata"][0]["title"].pop("en"), "kata[0] 'shared1'.title.en: missing"),
        (lambda d: d["kata"][0].update(fails_on=["fork", "thread"]), "'thread' is not a start method"),
        (lambda d: d["kata"][0].update(fails_on={"3.10": ["fork"]}), "kata[0] 'shared1'.fails_on.default: missing"),
        (lambda d: d["kata"][0].update(name="01_join"), "kata[0] '01_join'.name: must be an importable module name"),
        (lambda d: d["kata"][0].update(track="nope"), "kata[0] 'shared1'.track: 'nope' is not a declared [[track]] id"),
        (lambda d: d["kata"][0].update(points=-1), "kata[0] 'shared1'.points: must be a whole number >= 0"),
        (lambda d: d["kata"][0].update(hint=[]), "kata[0] 'shared1'.hint: unknown field"),
        (lambda d: d["kata"][0].update(timeout=0), "kata[0] 'shared1'.timeout: must be a positive number"),
        (lambda d: d["kata"][0].update(messages={"k": {"en": "x"}}), "kata[0] 'shared1'.messages.k.ko: missing"),
        (lambda d: d["kata"].append(dict(d["kata"][0])), "'shared1' is used twice"),
        (lambda d: d.update(schema=2), "schema: must be 1"),
        (lambda d: d["kata"][0].pop("fails_on"), "kata[0] 'shared1'.fails_on: missing"),
        (lambda d: d["kata"][0].update(without={"gpu": {"fails_on": [], "why": {"en": "x", "ko": "y"}}}),
         "kata[0] 'shared1'.without.gpu: unknown means"),
        (lambda d: d["kata"][0].update(without={"affinity": {"fails_on": []}}),
         "kata[0] 'shared1'.without.affinity.why: missing"),
        (lambda d: d["kata"][0].update(without={"affinity": {"fails_on": ["thread"], "why": {"en": "x", "ko": "y"}}}),
         "'thread' is not a start method"),
    ],
)
def test_every_mistake_names_its_field(change, expected):
    data = good()
    change(data)
    found = problems(data)
    assert any(expected in p for p in found), found


def test_a_kata_that_starts_no_process_fails_everywhere_or_nowhere():
    data = good()
    data["kata"][0]["processes"] = False
    assert any("fails everywhere or nowhere" in p for p in problems(data))


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    path = tmp_path / "katas.toml"
    path.write_text("schema = 1\n[[kata]\n", encoding="utf-8")
    with pytest.raises(manifest.ManifestError) as excinfo:
        manifest.load(path)
    assert "not valid TOML" in str(excinfo.value) and str(path) in str(excinfo.value)


def test_a_missing_manifest_is_reported(tmp_path):
    with pytest.raises(manifest.ManifestError, match="cannot read"):
        manifest.load(tmp_path / "katas.toml")
