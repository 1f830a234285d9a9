"""dojo release, dojo export gradescope, dojo export classroom (dojo/grading/release.py).

The Gradescope autograder and the Classroom workflow's steps are run here for real, in
scratch folders laid out as Gradescope and GitHub Actions lay them out, against a copy of
the fixture kit cut down to two katas (good1, which a solution passes, and syntax1, which
fails), so that one grading run takes a few seconds.
"""

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dojo.cli import main
from dojo.grading import release, seal
from selftest.helpers import KIT, copy_kit, keep_katas, own_processes

HIDDEN_TEST = """\
def test_an_empty_list_comes_back_empty(kata, mp_context):
    assert kata.doubles(mp_context, []) == []
"""
GOOD1_POINTS = 1  # selftest/kit/katas.toml
HEX = "ab" * 32


@pytest.fixture
def kit(tmp_path):
    """A copy of the fixture kit with an instructor-only test for good1 (never in the repo)
    and some caches that no release may carry."""
    kit = copy_kit(tmp_path)
    (kit / "hidden").mkdir()
    (kit / "hidden" / "test_good1.py").write_text(HIDDEN_TEST)
    for folder in ("katas", "tests", "hidden"):
        (kit / folder / "__pycache__").mkdir()
        (kit / folder / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (kit / ".dojo").mkdir()
    (kit / ".dojo" / "state.json").write_text("{}")
    (kit / "bench").mkdir()
    (kit / "bench" / "bench1.py").write_text("")
    return kit


@pytest.fixture
def small_kit(kit):
    """The kit cut down to good1 and syntax1."""
    keep_katas(kit, ["good1", "syntax1"])
    return kit


def _run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _files(folder: Path) -> set:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unzip(archive: Path, dest: Path) -> None:
    """Unpack as unzip(1) does: the Unix mode of each entry is kept."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            zf.extract(info, dest)
            (dest / info.filename).chmod((info.external_attr >> 16) & 0o777)


# --- dojo release ---------------------------------------------------------------------


def test_release_ships_katas_tests_settings_and_dojo_but_no_solutions_or_hidden_tests(kit, tmp_path, capsys):
    shutil.copyfile(Path(__file__).resolve().parent.parent / "toxfile.py", kit / "toxfile.py")  # tox finds pyenv's
    out = tmp_path / "bundle"
    code, printed, _ = _run_cli(capsys, "--root", kit, "release", out)
    assert code == 0
    files = _files(out)
    for name in ("katas.toml", "conftest.py", "pyproject.toml", "toxfile.py", "seal.json", "katas/good1.py",
                 "katas/__init__.py", "tests/test_good1.py", "dojo/__init__.py", "dojo/__main__.py",
                 "dojo/messages.toml", "dojo/grading/grade.py", "dojo/grading/release.py"):
        assert name in files
    assert (out / "katas" / "good1.py").read_bytes() == (kit / "katas" / "good1.py").read_bytes()
    assert not [f for f in files if f.split("/")[0] in ("solutions", "hidden", ".dojo", "bench", "selftest")]
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    assert f"made {out}" in printed and "left out: solutions/, hidden/" in printed


def test_release_seal_names_no_hidden_test_and_accepts_the_bundle(kit, tmp_path, capsys):
    out = tmp_path / "bundle"
    assert _run_cli(capsys, "--root", kit, "release", out)[0] == 0
    sealed = seal.read(out / "seal.json")
    assert "tests/test_good1.py" in sealed["files"]
    assert not [name for name in sealed["files"] if name.startswith("hidden/")]
    assert seal.check(out, sealed) == []
    (out / "tests" / "test_good1.py").write_text("def test_nothing(): pass\n")
    assert seal.check(out, sealed) == ["tests/test_good1.py: changed since the kit was sealed"]


def test_release_files_are_readable_by_everyone(kit, tmp_path, capsys):
    (kit / "katas.toml").chmod(0o600)  # as the maintainer's own checkout has it
    out = tmp_path / "bundle"
    assert _run_cli(capsys, "--root", kit, "release", out)[0] == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "katas.toml").stat().st_mode) == 0o644
    assert stat.S_IMODE((out / "katas").stat().st_mode) == 0o755


def test_release_zip_is_the_same_bytes_every_time(kit, tmp_path, capsys):
    code, printed, _ = _run_cli(capsys, "--root", kit, "release", tmp_path / "one" / "kit.zip")
    assert code == 0
    # nothing a zip must not depend on: times, modes, caches, the output's name
    os.utime(kit / "katas" / "good1.py", (1, 1))
    (kit / "tests" / "test_good1.py").chmod(0o600)
    shutil.rmtree(kit / "katas" / "__pycache__")
    code, printed_again, _ = _run_cli(capsys, "--root", kit, "release", tmp_path / "two" / "other.zip")
    assert code == 0
    first, second = tmp_path / "one" / "kit.zip", tmp_path / "two" / "other.zip"
    assert _sha256(first) == _sha256(second)
    assert f"sha256 {_sha256(first)}  kit.zip" in printed
    assert f"--kit-sha256 {_sha256(second)}" in printed_again
    with zipfile.ZipFile(first) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names) and not [n for n in names if n.endswith("/")]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {stat.S_IFREG | 0o644}


def test_release_zip_holds_what_the_folder_release_holds(kit, tmp_path, capsys):
    assert _run_cli(capsys, "--root", kit, "release", tmp_path / "kit.zip")[0] == 0
    assert _run_cli(capsys, "--root", kit, "release", tmp_path / "bundle")[0] == 0
    _unzip(tmp_path / "kit.zip", tmp_path / "unzipped")
    assert _files(tmp_path / "unzipped") == _files(tmp_path / "bundle")
    assert seal.check(tmp_path / "unzipped", seal.read(tmp_path / "unzipped" / "seal.json")) == []


@pytest.mark.parametrize("where", ["nonempty", "nonempty.zip", "kit/katas/out", "kit/tests/out.zip", "kit"])
def test_release_refuses_an_output_that_is_not_empty_or_is_in_the_kit(kit, tmp_path, capsys, where):
    (tmp_path / "nonempty").mkdir()
    (tmp_path / "nonempty" / "notes.txt").write_text("mine")
    (tmp_path / "nonempty.zip").write_bytes(b"PK")
    before = _files(tmp_path)
    code, _, err = _run_cli(capsys, "--root", kit, "release", tmp_path / where)
    assert code == 2
    assert any(why in err for why in ("not empty", "inside a folder of the kit", "is the kit itself"))
    assert _files(tmp_path) == before  # nothing written, nothing left behind


def test_release_into_an_existing_empty_folder(kit, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert _run_cli(capsys, "--root", kit, "release", tmp_path / "empty")[0] == 0
    assert (tmp_path / "empty" / "seal.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dojo-release-")]


def test_release_warns_about_a_kata_that_ships_solved(kit, tmp_path, capsys):
    shutil.copyfile(kit / "solutions" / "good1.py", kit / "katas" / "good1.py")
    code, printed, _ = _run_cli(capsys, "--root", kit, "release", tmp_path / "bundle")
    assert code == 0
    assert "warning: katas/good1.py is identical to solutions/good1.py" in printed


def test_release_refuses_a_kit_whose_own_dojo_is_not_the_one_running(kit, tmp_path, capsys):
    shutil.copytree(Path(release.__file__).parents[1], kit / "dojo",
                    ignore=shutil.ignore_patterns("__pycache__", ".dojo"))
    assert _run_cli(capsys, "--root", kit, "release", tmp_path / "same")[0] == 0
    (kit / "dojo" / "cli.py").write_text("# changed\n", encoding="utf-8")
    code, _, err = _run_cli(capsys, "--root", kit, "release", tmp_path / "changed")
    assert code == 2 and "the kit's dojo/ differs from the dojo running this command" in err
    assert not (tmp_path / "changed").exists()


# --- dojo export gradescope -----------------------------------------------------------


def test_gradescope_zip_has_the_scripts_at_its_root_and_the_kit_with_hidden_tests(kit, tmp_path, capsys):
    out = tmp_path / "autograder.zip"
    code, printed, _ = _run_cli(capsys, "--root", kit, "export", "gradescope", out)
    assert code == 0
    with zipfile.ZipFile(out) as zf:
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert {mode for name, mode in modes.items() if name not in release.GRADESCOPE_SCRIPTS} == {0o644}
    # the zip's root becomes /autograder/source: the kit is at the root, not in a folder
    for name in ("katas.toml", "conftest.py", "pyproject.toml", "seal.json", "tests/test_good1.py",
                 "hidden/test_good1.py", "katas/good1.py", "dojo/grading/grade.py"):
        assert name in modes
    assert not [n for n in modes if n.startswith(("solutions/", ".dojo/", "bench/")) or "__pycache__" in n]
    assert f"sha256 {_sha256(out)}  autograder.zip" in printed
    _unzip(out, tmp_path / "source")
    sealed = seal.read(tmp_path / "source" / "seal.json")
    assert "hidden/test_good1.py" in sealed["files"]
    assert seal.check(tmp_path / "source", sealed) == []


def test_gradescope_zip_is_the_same_bytes_every_time(kit, tmp_path, capsys):
    assert _run_cli(capsys, "--root", kit, "export", "gradescope", tmp_path / "a.zip")[0] == 0
    os.utime(kit / "hidden" / "test_good1.py", (1, 1))
    assert _run_cli(capsys, "--root", kit, "export", "gradescope", tmp_path / "b.zip")[0] == 0
    assert _sha256(tmp_path / "a.zip") == _sha256(tmp_path / "b.zip")


def test_gradescope_export_must_be_a_new_zip(kit, tmp_path, capsys):
    code, _, err = _run_cli(capsys, "--root", kit, "export", "gradescope", tmp_path / "autograder")
    assert code == 2 and "must be a .zip" in err
    (tmp_path / "old.zip").write_bytes(b"PK")
    code, _, err = _run_cli(capsys, "--root", kit, "export", "gradescope", tmp_path / "old.zip")
    assert code == 2 and "not empty" in err


@pytest.mark.parametrize("name", release.GRADESCOPE_SCRIPTS)
def test_gradescope_scripts_are_valid_bash(name, tmp_path):
    script = tmp_path / name
    script.write_text((release.SETUP_SH if name == "setup.sh" else release.RUN_AUTOGRADER))
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    if shutil.which("shellcheck"):
        check = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout


def _autograder(kit: Path, tmp_path: Path) -> Path:
    """/autograder as Gradescope lays it out, with the exported zip unpacked into source/
    and a submission that solves good1 and leaves the other katas as the kit has them."""
    root = tmp_path / "autograder"
    release.export_gradescope(kit, tmp_path / "autograder.zip")
    _unzip(tmp_path / "autograder.zip", root / "source")
    (root / "submission" / "katas").mkdir(parents=True)
    (root / "results").mkdir()
    for module in (KIT / "katas").glob("*.py"):
        shutil.copyfile(module, root / "submission" / "katas" / module.name)
    shutil.copyfile(KIT / "solutions" / "good1.py", root / "submission" / "katas" / "good1.py")
    return root


def _run_autograder(root: Path, **env) -> dict:
    environ = {**os.environ, "AUTOGRADER_ROOT": str(root), "DOJO_PYTHON": sys.executable, **env}
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=environ,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not own_processes()
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def test_run_autograder_grades_the_submission_into_gradescope_results(small_kit, tmp_path):
    root = _autograder(small_kit, tmp_path)
    results = _run_autograder(root)
    assert results["score"] == GOOD1_POINTS
    assert results["tests"]
    for test in results["tests"]:
        assert {"name", "score", "max_score", "status", "visibility"} <= set(test)
        assert test["status"] in ("passed", "failed") and test["visibility"] == "visible"
    good1 = [t for t in results["tests"] if t["name"].startswith("good1 /")]
    assert {t["status"] for t in good1} == {"passed"}
    assert sum(t["max_score"] for t in good1) == pytest.approx(GOOD1_POINTS, abs=0.02)
    assert {t["status"] for t in results["tests"] if t["name"].startswith("syntax1")} == {"failed"}
    # the instructor-only test ran, beside the visible one
    grade = json.loads((root / "results" / "dojo" / "grade.json").read_text(encoding="utf-8"))
    good1_tests = next(k for k in grade["katas"] if k["kata"] == "good1")["tests"]
    assert {t["outcome"] for t in good1_tests if t["hidden"]} == {"passed"}
    assert {t["outcome"] for t in good1_tests if not t["hidden"]} == {"passed"}


def test_run_autograder_reports_a_kit_that_no_longer_matches_its_seal_as_a_failed_grader(kit, tmp_path):
    root = _autograder(kit, tmp_path)
    with open(root / "source" / "tests" / "test_good1.py", "a") as fh:
        fh.write("\n# edited after the kit was sealed\n")
    results = _run_autograder(root)
    assert results["score"] == 0
    assert results["output"].startswith("The grader failed (it exited with status 3)")
    assert "tests/test_good1.py: changed since the kit was sealed" in results["output"]
    assert not (root / "results" / "dojo" / "gradescope.json").exists()


def test_run_autograder_without_its_python_still_writes_results(kit, tmp_path):
    root = _autograder(kit, tmp_path)
    results = _run_autograder(root, DOJO_PYTHON=str(tmp_path / "no-such-python"))
    assert results["score"] == 0 and results["tests"] == []
    assert "The grader failed (it exited with status 127)" in results["output"]
    assert "no-such-python" in results["output"]


def test_run_autograder_stops_a_grader_that_overruns_its_time(kit, tmp_path):
    root = _autograder(kit, tmp_path)
    slow = tmp_path / "slow-python"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    results = _run_autograder(root, DOJO_PYTHON=str(slow), DOJO_GRADE_TIMEOUT="1")
    assert results["score"] == 0
    assert "it ran longer than 1 s and was stopped" in results["output"]


def test_hidden_tests_are_graded_beside_visible_ones_of_the_same_file_name(kit, tmp_path):
    from dojo.grading import grade as grading

    keep_katas(kit, ["good1"])
    submission = tmp_path / "submission" / "katas"
    submission.mkdir(parents=True)
    shutil.copyfile(KIT / "solutions" / "good1.py", submission / "good1.py")
    result = grading.grade(submission.parent, grading.Settings(kit=kit, sandboxed=False, wall=60))
    assert [k.status for k in result.katas] == ["passed"]
    assert any(t.hidden for t in result.katas[0].tests)


# --- dojo export classroom ------------------------------------------------------------


def test_classroom_workflow_pins_the_kit_and_reports_through_the_dojo_runner(kit, tmp_path, capsys):
    out = tmp_path / "template"
    url = "https://example.org/course/kit.zip"
    code, printed, _ = _run_cli(capsys, "--root", kit, "export", "classroom", out,
                                "--kit-url", url, "--kit-sha256", HEX.upper())
    assert code == 0
    text = (out / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8")
    assert f"DOJO_KIT_URL: '{url}'" in text
    assert f"DOJO_KIT_SHA256: '{HEX}'" in text
    assert 'sha256sum --check --strict' in text
    assert "uses: actions/checkout@v4" in text and "python-version: '3.11'" in text
    assert "      id: dojo\n" in text
    assert "uses: classroom-resources/autograding-grading-reporter@v1" in text
    assert '        DOJO_RESULTS: "${{ steps.dojo.outputs.result }}"\n' in text
    assert "      with:\n        runners: dojo\n" in text
    for script in (release.FETCH_SCRIPT, release.INSTALL_SCRIPT, release.GRADE_SCRIPT):
        assert release._block(script, 8) in text
    assert "--format classroom --format terminal" in text
    assert text.count("${{") == 1 and "secrets." not in text
    assert "\t" not in text
    guide = (out / "CLASSROOM.md").read_text(encoding="utf-8")
    assert HEX in guide and url in guide and "advisory" in guide and "dojo grade --batch" in guide
    assert f"pinned to sha256 {HEX}" in printed


def test_classroom_workflow_with_a_private_kit_sends_the_token_secret(kit, tmp_path, capsys):
    out = tmp_path / "template"
    code, _, _ = _run_cli(capsys, "--root", kit, "export", "classroom", out, "--kit-url",
                          "https://api.github.com/repos/o/kit/releases/assets/1", "--kit-sha256", HEX,
                          "--kit-token-secret", "DOJO_KIT_TOKEN")
    assert code == 0
    text = (out / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8")
    assert "      env:\n        DOJO_KIT_TOKEN: ${{ secrets.DOJO_KIT_TOKEN }}\n      run: |\n" in text
    assert "a determined student" in (out / "CLASSROOM.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("args, complaint", [
    (["--kit-url", "https://example.org/kit.zip", "--kit-sha256", "abc"], "is not a sha256"),
    (["--kit-url", "https://example.org/k'it.zip", "--kit-sha256", HEX], "is not an http(s) URL"),
    (["--kit-url", "https://example.org/${{ github.token }}", "--kit-sha256", HEX], "is not an http(s) URL"),
    (["--kit-url", "http://example.org/kit.zip", "--kit-sha256", HEX], "must use https"),
    (["--kit-url", "https://example.org/kit.zip", "--kit-sha256", HEX, "--kit-token-secret", "a-b"],
     "is not a GitHub secret name"),
])
def test_classroom_export_refuses_what_it_cannot_pin_or_quote(kit, tmp_path, capsys, args, complaint):
    code, _, err = _run_cli(capsys, "--root", kit, "export", "classroom", tmp_path / "t", *args)
    assert code == 2 and complaint in err
    assert not (tmp_path / "t").exists()


def test_classroom_export_overwrites_only_with_force(kit, tmp_path, capsys):
    out = tmp_path / "template"
    args = ["--root", kit, "export", "classroom", out, "--kit-url", "https://example.org/kit.zip"]
    assert _run_cli(capsys, *args, "--kit-sha256", HEX)[0] == 0
    code, _, err = _run_cli(capsys, *args, "--kit-sha256", "cd" * 32)
    assert code == 2 and "pass --force" in err
    assert _run_cli(capsys, *args, "--kit-sha256", "cd" * 32, "--force")[0] == 0
    assert "cd" * 32 in (out / ".github" / "workflows" / "classroom.yml").read_text()


needs_tools = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "sha256sum", "unzip")),
    reason="the workflow's steps need bash, curl, sha256sum and unzip",
)


def _step(script: str, runner_temp: Path, **env) -> subprocess.CompletedProcess:
    environ = {**os.environ, "RUNNER_TEMP": str(runner_temp), **env}
    return subprocess.run(["bash", "-c", script], env=environ, capture_output=True, text=True, timeout=300)


@needs_tools
def test_classroom_fetch_step_refuses_a_kit_that_is_not_the_pinned_one(kit, tmp_path):
    release.release(kit, tmp_path / "kit.zip")
    runner = tmp_path / "runner"
    runner.mkdir()
    done = _step(release.FETCH_SCRIPT, runner, DOJO_KIT_URL=(tmp_path / "kit.zip").as_uri(), DOJO_KIT_SHA256=HEX)
    assert done.returncode != 0
    assert "is not the one this workflow pins" in done.stdout
    assert not (runner / "dojo-kit").exists()


@needs_tools
def test_classroom_steps_grade_the_checkout_with_the_fetched_kit_only(small_kit, tmp_path):
    lines = release.release(small_kit, tmp_path / "kit.zip")
    digest = _sha256(tmp_path / "kit.zip")
    assert f"sha256 {digest}  kit.zip" in "\n".join(lines)
    runner = tmp_path / "runner"
    runner.mkdir()
    fetched = _step(release.FETCH_SCRIPT, runner, DOJO_KIT_URL=(tmp_path / "kit.zip").as_uri(),
                    DOJO_KIT_SHA256=digest)
    assert fetched.returncode == 0, fetched.stderr
    assert (runner / "dojo-kit" / "katas.toml").is_file()

    # the student's repository: good1 solved, syntax1 not, but its test made to pass, and
    # a dojo package of its own that would fail everything if it were imported
    workspace = tmp_path / "checkout"
    release.release(small_kit, workspace)
    shutil.copyfile(KIT / "solutions" / "good1.py", workspace / "katas" / "good1.py")
    (workspace / "tests" / "test_syntax1.py").write_text("def test_it_parses():\n    pass\n")
    (workspace / "dojo" / "__init__.py").write_text("raise SystemExit('the checkout dojo was imported')\n")
    output = tmp_path / "github_output"
    output.write_text("")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    graded = _step(release.GRADE_SCRIPT, runner, GITHUB_WORKSPACE=str(workspace), GITHUB_OUTPUT=str(output),
                   PATH=path)
    assert graded.returncode == 0, graded.stderr
    assert not own_processes()
    key, _, value = output.read_text().strip().partition("=")
    assert key == "result"
    result = json.loads(base64.b64decode(value))
    assert {t["name"]: (t["status"], t["score"]) for t in result["tests"]} == {
        "good1": ("pass", GOOD1_POINTS), "syntax1": ("fail", 0),
    }
    assert "good1" in graded.stdout  # the terminal table, for the student's log
