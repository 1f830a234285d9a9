"""dojo verify --fixes and --mutants against the fixture kit: every verdict a fix can earn."""

import io
import textwrap

import pytest
from rich.console import Console

from dojo import fixes, manifest
from dojo.mutants import mutants_of
from dojo.verify import verify
from selftest.helpers import copy_kit

SOLUTION = '''"""Doubles, computed in a pool."""


def double(n):
    return n * 2


def doubles(ctx, numbers):
{body}
'''
RIGHT = {
    "right_map.py": ("# right: the pool maps\n# style: map\n", "    with ctx.Pool(2) as pool:\n        return pool.map(double, numbers)"),
    "right_imap.py": ("# right: imap keeps the order\n# style: imap\n", "    with ctx.Pool(2) as pool:\n        return list(pool.imap(double, numbers))"),
    "right_apply.py": ("# right: one apply_async per number\n# style: apply_async\n", "    with ctx.Pool(2) as pool:\n        futures = [pool.apply_async(double, (n,)) for n in numbers]\n        return [f.get() for f in futures]"),
    "right_starmap.py": ("# right: starmap with one-tuples\n# style: starmap\n", "    with ctx.Pool(2) as pool:\n        return pool.starmap(double, [(n,) for n in numbers])"),
}
WRONG = {
    "wrong_unchanged.py": ("# wrong: returns the numbers as they are\n# breaks: doubled\n# caught-on: fork spawn forkserver\n", "    return list(numbers)"),
    "wrong_triples.py": ("# wrong: triples\n# breaks: doubled\n# caught-on: fork spawn forkserver\n", "    return [n * 3 for n in numbers]"),
    "wrong_first_only.py": ("# wrong: only the first\n# breaks: doubled\n# caught-on: fork spawn forkserver\n", "    return [numbers[0] * 2]"),
    "wrong_reversed.py": ("# wrong: reversed\n# breaks: doubled\n# caught-on: fork spawn forkserver\n", "    return [n * 2 for n in reversed(numbers)]"),
    "wrong_empty.py": ("# wrong: nothing\n# breaks: doubled\n# caught-on: fork spawn forkserver\n", "    return []"),
}


@pytest.fixture
def kit(tmp_path):
    kit = copy_kit(tmp_path)
    toml = kit / "katas.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            '[kata.messages]\nwrong = { en = "doubles',
            '[kata.clauses]\ndoubled = "every number comes back doubled, in order"\n\n[kata.messages]\nwrong = { en = "doubles',
            1,
        ),
        encoding="utf-8",
    )
    test = kit / "tests" / "test_good1.py"
    test.write_text("import pytest\n\n\n@pytest.mark.clause('doubled')\n" + test.read_text(encoding="utf-8"))
    return kit


def write_fixes(kit, files):
    folder = kit / "fixes" / "good1"
    folder.mkdir(parents=True, exist_ok=True)
    for name, (header, body) in files.items():
        (folder / name).write_text(header + SOLUTION.format(body=body), encoding="utf-8")


def run(kit, **kwargs):
    out = io.StringIO()
    code = verify(kit, console=Console(file=out, width=250, color_system=None), katas=["good1"],
                  start_methods=["fork"], **kwargs)
    return code, " ".join(out.getvalue().split())


def test_a_corpus_whose_fixes_all_earn_their_verdict_passes(kit):
    write_fixes(kit, {**RIGHT, **WRONG})
    code, out = run(kit, fixes=True)
    assert code == 0, out
    assert "4/4" in out and "5/5" in out and "every fix of 1 katas has the verdict it declares" in out


def test_a_wrong_fix_that_passes_or_fails_elsewhere_than_declared_is_named(kit):
    write_fixes(kit, {**RIGHT, **WRONG})
    header = "# wrong: right after all\n# breaks: doubled\n# caught-on: fork\n"
    write_fixes(kit, {"wrong_not_really.py": (header, RIGHT["right_map.py"][1])})
    code, out = run(kit, fixes=True)
    assert code == 1
    assert "good1/wrong_not_really.py: passed on fork, where it declares it is caught" in out


def test_a_wrong_fix_caught_by_a_bare_exception_or_another_clause_is_named(kit):
    write_fixes(kit, {**RIGHT, **WRONG})
    toml = kit / "katas.toml"
    toml.write_text(toml.read_text().replace('doubled = "every', 'other = "something else"\ndoubled = "every'))
    header = "# wrong: raises\n# breaks: other\n# caught-on: fork\n"
    write_fixes(kit, {"wrong_raises.py": (header, "    raise RuntimeError('no')")})
    code, out = run(kit, fixes=True)
    assert code == 1
    assert "caught by test_every_number_comes_back_doubled [fork], which checks doubled, not what it breaks (other)" in out
    assert "its first failure on fork (test_every_number_comes_back_doubled) is a bare failed" in out


def test_a_slow_right_fix_and_a_thin_corpus_are_named(kit):
    slow = ("# right: but slow\n# style: sleepy\n",
            "    import time\n    time.sleep(1.6)\n    return [n * 2 for n in numbers]")
    write_fixes(kit, {"right_map.py": RIGHT["right_map.py"], "right_sleepy.py": slow, "wrong_empty.py": WRONG["wrong_empty.py"]})
    code, out = run(kit, fixes=True)
    assert code == 1
    assert "right_sleepy.py: test_every_number_comes_back_doubled [fork] took" in out
    assert "good1: 2 right fix(es) in 2 style(s); at least 4 in 4 different styles" in out
    assert "good1: 1 wrong fix(es); at least 5" in out


def test_headers_are_checked_before_anything_runs(kit):
    m = manifest.load(kit / "katas.toml")
    kata = m.get("good1")
    folder = kit / "fixes" / "good1"
    folder.mkdir(parents=True)
    (folder / "wrong_x.py").write_text("# wrong: x\n# breaks: nope\n# caught-on: fork sideways\n")
    (folder / "odd.py").write_text("x = 1\n")
    found = fixes.discover(kit, [kata])["good1"]
    problems = [p for f in found for p in f.problems]
    assert "wrong_x.py: breaks 'nope', which is not in good1's [kata.clauses]" in problems
    assert "wrong_x.py: caught-on 'sideways' is not a start method" in problems
    assert "odd.py: a fix is named right_<style>.py or wrong_<what>.py" in problems


def test_a_surviving_mutant_fails_verify_until_a_reason_is_listed(kit):
    code, out = run(kit, mutants=True)
    assert code == 1
    assert "good1: mutant drop_with@9 survived every test" in out
    (kit / "fixes").mkdir()
    (kit / "fixes" / "equivalent-mutants.toml").write_text(
        '[[equivalent]]\nkata = "good1"\nmutant = "drop_with@9"\n'
        'reason = "the pool\'s finalizer terminates it when doubles returns"\n'
    )
    code, out = run(kit, mutants=True)
    assert code == 0, out


def test_mutation_operators_change_only_lesson_lines():
    source = textwrap.dedent('''
        import os

        def work(ctx, lock, items, counter, block, executor, p):
            with lock:
                counter.value += 1
            p.join()
            block.unlink()
            executor.shutdown(wait=False, cancel_futures=True)
            try:
                items[0:len(items)]
            except ValueError:
                return "bad"
            return len(os.sched_getaffinity(0))
    ''')
    ids = [m.id for m in mutants_of("k", source)]
    assert ids == [
        "drop_join@7", "drop_with@5", "drop_release@8", "drop_shutdown@9", "drop_keyword@9", "drop_keyword@9#2",
        "swallow_exception@12", "machine_cpus@14", "slice_bound@11", "lock_per_worker@5", "release_before_write@5",
    ]
    by_id = {m.id: m.source for m in mutants_of("k", source)}
    assert "_dojo_read = counter.value\n    counter.value = _dojo_read + 1" in by_id["release_before_write@5"]
    assert "threading').Lock()" in by_id["lock_per_worker@5"]
    assert "os').cpu_count()" in by_id["machine_cpus@14"]


def test_a_mutant_sample_skips_the_listed_equivalents_and_rotates_with_the_seed():
    from dojo.mutants import Mutant, sampled

    everything = {"k": [Mutant("k", f"op@{n}", "op", n, "") for n in range(10)]}
    equivalents = {("k", "op@0"): "why", ("k", "op@1"): "why"}
    picks = {seed: [mu.id for mu in sampled(everything, equivalents, 3, seed)["k"]] for seed in ("a", "b", "c", "d")}
    assert all(len(ids) == 3 and not {"op@0", "op@1"} & set(ids) for ids in picks.values())
    assert len({tuple(ids) for ids in picks.values()}) > 1  # another day, another slice
    assert picks["a"] == [mu.id for mu in sampled(everything, equivalents, 3, "a")["k"]]  # same seed, same slice
    assert sampled(everything, equivalents, None, "a") is everything
