"""dojo verify against the fixture kit: agreement, mismatches named, structure checked."""

import io

import pytest
from rich.console import Console

from dojo.verify import verify
from selftest.helpers import copy_kit


@pytest.fixture
def kit(tmp_path):
    return copy_kit(tmp_path)


def run_verify(kit, **kwargs):
    out = io.StringIO()
    code = verify(kit, console=Console(file=out, width=200, color_system=None), **kwargs)
    return code, out.getvalue()


def test_katas_that_fail_as_declared_and_solutions_that_pass_agree(kit):
    code, out = run_verify(kit, katas=["good1", "hang1"], repeat=2)
    assert code == 0, out
    assert "ok 2/2" in out and "2 katas agree with katas.toml" in out


def test_a_kata_that_only_crashes_is_a_mismatch_named_in_the_output(kit):
    code, out = run_verify(kit, katas=["crash1"], start_methods=["fork"])
    assert code == 1
    assert "crash1 [fork] katas: kata only errored or crashed" in out


def test_a_kata_declared_to_fail_where_it_passes_is_a_mismatch(kit):
    text = (kit / "katas.toml").read_text(encoding="utf-8")
    (kit / "katas").joinpath("good1.py").write_text((kit / "solutions" / "good1.py").read_text().replace("# map", "# TODO: map"))
    code, out = run_verify(kit, katas=["good1"], start_methods=["spawn"])
    assert code == 1
    assert "good1 [spawn] katas: kata passed, but katas.toml declares it fails here" in out
    assert text  # the manifest was left as it was


def test_structure_problems_are_named(kit):
    (kit / "katas" / "stray.py").write_text("x = 1\n")
    good = kit / "katas" / "good1.py"
    good.write_text(good.read_text() + "\n# TODO: a second one\n")
    (kit / "tests" / "test_hang1.py").unlink()
    code, out = run_verify(kit, katas=["good1"], start_methods=["fork"])
    assert code == 1
    assert "katas/stray.py: stray file" in out
    assert "good1: katas/good1.py has 2 '# TODO' lines" in out
    assert "hang1: tests/test_hang1.py is missing" in out


def test_an_invalid_manifest_stops_verify_with_every_problem_listed(kit):
    (kit / "katas.toml").write_text('schema = 1\n[[track]]\nid = "x"\n', encoding="utf-8")
    code, out = run_verify(kit)
    assert code == 2
    assert "track[0].title: missing" in out and "kata: the manifest lists no kata" in out


def test_an_unknown_kata_name_is_refused(kit):
    code, out = run_verify(kit, katas=["nope"])
    assert code == 2 and "unknown kata(s): nope" in out
