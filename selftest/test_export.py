"""The exporters, each checked against its format's field list (see FORMATS.md)."""

import base64
import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from dojo.grading import export
from dojo.grading.model import Grade, score_kata, total
from dojo.grading.model import TestGrade as Result  # "Test*" would be collected

METHODS = ["fork", "spawn"]
NASTY = "got <&> \x00\x1b[31m 결과가 없습니다"  # markup, control characters, Korean
SECRET = "SECRET-expected-4242"  # only a hidden test's message and location carry it
KATAS = ["processes1", "pools1", "shared_state1", "threads1", "queues1"]


def t(kata, name, method, outcome, message="", where="", hidden=False):
    return Result(kata, name, method, "3.11", outcome, message, where, 0.25, hidden)


def katas():
    return [
        score_kata("processes1", "Processes", 2, METHODS, [
            t("processes1", "test_child_reports", "fork", "passed"),
            t("processes1", "test_child_reports", "spawn", "passed"),
            t("processes1", "test_fork_only_detail", "spawn", "skipped", "fork only"),
        ]),
        score_kata("pools1", "Pools", 3, METHODS, [
            t("pools1", "test_results_come_back[3]", "fork", "passed"),
            t("pools1", "test_results_come_back[3]", "spawn", "failed", NASTY, "katas/pools1.py:9"),
            t("pools1", "test_pool_closes", "spawn", "error", "fixture broke"),
        ]),
        score_kata("shared_state1", "Shared state", 2, METHODS, [],
                   status="missing", reason="katas/shared_state1.py is not in the submission"),
        score_kata("threads1", "Threads", 1, METHODS, [
            t("threads1", "test_threads_join", None, "passed"),
        ], processes=False),
        score_kata("queues1", "Queues", 2, METHODS, [
            t("queues1", "test_drain", "fork", "passed"),
            t("queues1", "test_drain", "spawn", "passed"),
            t("queues1", "test_hidden_big_queue", "spawn", "timeout", SECRET, SECRET, hidden=True),
        ]),
    ]


def make_grade(**changes):
    ks = katas()
    score, most = total(ks)
    fields = dict(
        submission="alice.zip", student="alice", python="3.11", start_methods=METHODS,
        score=score, max_score=most, katas=ks,
        limits={"wall": "on: 60 s per kata", "network": "off: unshare not permitted"},
        notes=["ignored notes.txt"], started="2025-01-01T00:00:00+00:00", duration=12.6,
    )
    fields.update(changes)
    return Grade(**fields)


@pytest.fixture
def grade():
    return make_grade()


@pytest.fixture
def broken():
    return make_grade(error="judge exited with status 3")


def test_the_fixture_grade_scores_as_the_model_says(grade):
    assert [k.status for k in grade.katas] == ["passed", "partial", "missing", "passed", "partial"]
    assert (grade.score, grade.max_score) == (2 + 1.5 + 0 + 1 + 1, 10)


def test_every_selectable_format_and_the_model_have_a_fixed_file_name():
    assert set(export.FILES) == {*export.FORMATS, "model"}
    assert len(set(export.FILES.values())) == len(export.FILES)


# --- exercism v3 ------------------------------------------------------------------------


def test_exercism_results_have_the_v3_top_level_fields(grade):
    data = export.to_exercism(grade)
    assert data["version"] == 3
    assert data["status"] == "fail"
    assert data["message"] is None  # null unless status is error
    assert isinstance(data["tests"], list)


def test_exercism_tests_have_required_fields_and_allowed_statuses(grade):
    for test in export.to_exercism(grade)["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert test["status"] in ("pass", "fail", "error")
        assert test["message"] is None or isinstance(test["message"], str)
        assert isinstance(test["test_code"], str)
        assert isinstance(test["task_id"], int) and 1 <= test["task_id"] <= len(KATAS)
        assert test["kata"] in KATAS
        assert test["python"] == "3.11"
        assert test["start_method"] in (None, *METHODS)


def test_exercism_tests_follow_the_manifest_then_the_file_order(grade):
    tests = export.to_exercism(grade)["tests"]
    assert [x["task_id"] for x in tests] == sorted(x["task_id"] for x in tests)
    assert tests[0]["name"] == "processes1 / test_child_reports [fork]"


def test_exercism_test_code_is_a_visible_tests_source_and_never_a_hidden_ones():
    code = "def test_drain(kata):\n    assert kata.drain() == []"
    visible = Result("queues1", "test_drain", "fork", "3.11", "passed", code=code)
    hidden = Result("queues1", "test_hidden", "fork", "3.11", "failed", SECRET, hidden=True, code=SECRET)
    ks = [score_kata("queues1", "Queues", 2, ["fork"], [visible, hidden])]
    score, most = total(ks)
    tests = export.to_exercism(make_grade(katas=ks, score=score, max_score=most, start_methods=["fork"]))["tests"]
    assert [t["test_code"] for t in tests] == [code, ""]


def test_exercism_maps_each_outcome_to_pass_fail_or_error(grade):
    by_name = {x["name"]: x for x in export.to_exercism(grade)["tests"]}
    assert by_name["pools1 / test_results_come_back[3] [spawn]"]["status"] == "fail"
    assert by_name["pools1 / test_pool_closes [spawn]"]["status"] == "error"
    assert by_name["queues1 / test_hidden_big_queue [spawn]"]["status"] == "fail"
    skipped = by_name["processes1 / test_fork_only_detail [spawn]"]
    assert (skipped["status"], skipped["message"]) == ("pass", "skipped: fork only")


def test_exercism_gives_a_missing_kata_a_failing_entry_with_its_reason(grade):
    entry = [x for x in export.to_exercism(grade)["tests"] if x["kata"] == "shared_state1"]
    assert [(x["name"], x["status"], x["task_id"]) for x in entry] == [("shared_state1", "fail", 3)]
    assert "not in the submission" in entry[0]["message"]


def test_exercism_says_error_with_a_message_when_the_grader_failed(broken):
    data = export.to_exercism(broken)
    assert (data["status"], data["message"]) == ("error", "judge exited with status 3")


def test_exercism_reports_pass_when_every_kata_passed():
    ks = [score_kata("threads1", "T", 1, METHODS, [t("threads1", "test_a", None, "passed")],
                     processes=False)]
    data = export.to_exercism(make_grade(katas=ks, score=1.0, max_score=1.0))
    assert data["status"] == "pass"


# --- JUnit ------------------------------------------------------------------------------


def test_junit_parses_and_its_counts_match_its_testcases(grade):
    root = ET.fromstring(export.to_junit(grade).encode("utf-8"))
    assert root.tag == "testsuites"
    (suite,) = root
    cases = suite.findall("testcase")
    assert suite.get("name") == "dojo"
    assert int(suite.get("tests")) == len(cases) == 11  # 10 tests + the missing kata
    assert int(suite.get("failures")) == len(suite.findall("testcase/failure")) == 3
    assert int(suite.get("errors")) == len(suite.findall("testcase/error")) == 1
    assert int(suite.get("skipped")) == len(suite.findall("testcase/skipped")) == 1
    for attr in ("time", "timestamp", "hostname"):
        assert suite.get(attr) is not None


def test_junit_names_a_testcase_by_kata_test_and_start_method(grade):
    suite = ET.fromstring(export.to_junit(grade))[0]
    names = {(c.get("classname"), c.get("name")) for c in suite.iter("testcase")}
    assert ("katas.pools1", "test_results_come_back[3][spawn]") in names
    assert ("katas.threads1", "test_threads_join") in names
    assert all(float(c.get("time")) >= 0 for c in suite.iter("testcase"))


def test_junit_keeps_markup_and_korean_but_drops_control_characters(grade):
    text = export.to_junit(grade)
    failure = next(f for f in ET.fromstring(text).iter("failure") if "결과" in f.get("message"))
    assert failure.get("message") == "failed: got <&> [31m 결과가 없습니다"
    assert "katas/pools1.py:9" in failure.text
    assert "\x00" not in text and "\x1b" not in text


def test_junit_reports_a_grader_failure_as_an_error_testcase(broken):
    suite = ET.fromstring(export.to_junit(broken))[0]
    first = suite.find("testcase")
    assert (first.get("classname"), first.find("error").get("message")) == (
        "dojo", "judge exited with status 3")
    assert int(suite.get("errors")) == 2


# --- Gradescope -------------------------------------------------------------------------


def test_gradescope_results_have_the_top_level_fields(grade):
    data = export.to_gradescope(grade)
    assert data["score"] == grade.score
    assert isinstance(data["execution_time"], int) and data["execution_time"] == 13
    assert (data["output_format"], data["stdout_visibility"]) == ("md", "hidden")
    assert data["extra_data"] == {"python": "3.11", "start_methods": METHODS}
    assert "5.5 / 10" in data["output"]
    assert "on: 60 s per kata" in data["output"] and "ignored notes" in data["output"]


def test_gradescope_has_one_test_per_cell_with_the_spec_fields(grade):
    tests = export.to_gradescope(grade)["tests"]
    assert len(tests) == len(grade.cells) == 9
    for test in tests:
        assert test["status"] in ("passed", "failed")
        assert test["output_format"] in ("text", "html", "simple_format", "md", "ansi")
        assert test["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
        assert 0 <= test["score"] <= test["max_score"]
        assert test["tags"] == [test["name"].split(" / ")[0]]
        assert isinstance(test["output"], str)


def test_gradescope_numbers_and_names_cells_by_kata_and_start_method(grade):
    tests = {x["number"]: x for x in export.to_gradescope(grade)["tests"]}
    assert tests["2.2"]["name"] == "pools1 / spawn"
    assert tests["4.1"]["name"] == "threads1"
    assert "4.2" not in tests


def test_gradescope_cell_scores_add_up_to_the_top_level_score(grade):
    data = export.to_gradescope(grade)
    assert sum(x["score"] for x in data["tests"]) == pytest.approx(data["score"], abs=0.01)
    assert sum(x["max_score"] for x in data["tests"]) == pytest.approx(grade.max_score, abs=0.01)


def test_gradescope_scores_are_hundredths_that_add_up_exactly_however_points_divide():
    """Per-cell rounding gave 39.09 against 39: thirds and sevenths of points, cells passed
    in every pattern, each test's score in hundredths and their sum exactly the score."""
    methods = ["fork", "spawn", "forkserver"]
    ks = []
    for n, (points, passed) in enumerate([(1, 1), (2, 2), (10, 1), (10, 2), (7, 2), (5, 3), (3, 1)] * 6):
        tests = [t(f"k{n}", "test_x", m, "passed" if i < passed else "failed") for i, m in enumerate(methods)]
        ks.append(score_kata(f"k{n}", "K", points, methods, tests))
    score, most = total(ks)
    data = export.to_gradescope(make_grade(katas=ks, score=score, max_score=most, start_methods=methods))
    cents = [round(x["score"] * 100) for x in data["tests"]]
    assert all(x["score"] * 100 == pytest.approx(c, abs=1e-9) for x, c in zip(data["tests"], cents))
    assert sum(cents) == round(data["score"] * 100) == round(score * 100)
    assert sum(round(x["max_score"] * 100) for x in data["tests"]) == round(most * 100)
    by_kata = {}
    for x, c in zip(data["tests"], cents):
        by_kata.setdefault(x["tags"][0], []).append(c)
    assert all(sum(by_kata[k.kata]) == round(k.points * 100) for k in ks)  # each kata adds up too
    failed_cells = [c for x, c in zip(data["tests"], cents) if x["status"] == "failed"]
    assert failed_cells and not any(failed_cells)  # a failed cell never gets a leftover hundredth


def test_gradescope_explains_a_failing_cell_with_its_tests_messages(grade):
    tests = {x["number"]: x for x in export.to_gradescope(grade)["tests"]}
    assert "test_results_come_back[3]: failed" in tests["2.2"]["output"]
    assert "test_pool_closes: error" in tests["2.2"]["output"]
    assert "not in the submission" in tests["3.1"]["output"]
    assert tests["1.1"]["output"] == ""


def test_gradescope_awards_nothing_and_says_why_when_the_grader_failed(broken):
    data = export.to_gradescope(broken)
    assert data["score"] == 0
    assert not any(x["score"] for x in data["tests"])
    assert "grader failed" in data["output"]


# --- GitHub Classroom -------------------------------------------------------------------


def test_classroom_result_is_ascii_base64_of_the_runner_json(grade):
    encoded = export.classroom_result(grade)
    assert encoded.isascii() and "\n" not in encoded
    assert json.loads(base64.b64decode(encoded)) == export.to_classroom(grade)


def test_classroom_result_has_the_runner_fields(grade):
    data = export.to_classroom(grade)
    assert (data["version"], data["status"]) == (1, "fail")
    assert data["max_score"] == 10 and isinstance(data["max_score"], int)
    assert [x["name"] for x in data["tests"]] == KATAS
    for test in data["tests"]:
        assert test["status"] in ("pass", "fail", "error")
        assert test["test_code"] == "dojo grade"
        assert test["filename"] == f"katas/{test['name']}.py"
        assert test["line_no"] == 0
        assert isinstance(test["duration"], int)
        assert len(test["message"]) <= 500


def test_classroom_scores_add_up_to_the_grade(grade):
    assert sum(x["score"] for x in export.to_classroom(grade)["tests"]) == grade.score


def test_classroom_cuts_long_messages_to_500_characters_and_says_so():
    long = [t("pools1", "test_a", "spawn", "failed", "x" * 2000)]
    ks = [score_kata("pools1", "P", 2, METHODS, long)]
    (test,) = export.to_classroom(make_grade(katas=ks))["tests"]
    assert len(test["message"]) == 500 and test["message"].endswith("[cut to 500 characters]")


def test_classroom_reports_a_grader_failure_as_an_error_test_worth_nothing(broken):
    data = export.to_classroom(broken)
    assert data["status"] == "error"
    assert data["tests"][0]["status"] == "error"
    assert "judge exited" in data["tests"][0]["message"]
    assert sum(x["score"] for x in data["tests"]) == 0


# --- CSV --------------------------------------------------------------------------------


def test_csv_has_a_header_and_one_row_with_a_column_per_kata(grade):
    names = KATAS + ["locks1"]  # a kata of the class that this grade lacks
    rows = list(csv.reader(io.StringIO(export.to_csv(grade, names))))
    assert rows[0] == export.csv_header(names)
    row = dict(zip(rows[0], rows[1]))
    assert (row["student"], row["submission"], row["score"], row["max_score"]) == (
        "alice", "alice.zip", "5.5", "10")
    assert [row[k] for k in names] == ["2", "1.5", "0", "1", "1", ""]
    assert (row["status"], row["python"], row["start_methods"]) == ("graded", "3.11", "fork spawn")
    assert "\r" not in export.to_csv(grade, names)


def test_csv_row_says_error_and_awards_nothing_when_the_grader_failed(broken):
    row = dict(zip(export.csv_header(KATAS), export.csv_row(broken, KATAS)))
    assert row["status"] == "error: judge exited with status 3"
    assert row["score"] == 0


def test_csv_never_starts_a_text_cell_with_a_formula(grade):
    row = export.csv_row(make_grade(student="=HYPERLINK(1)"), KATAS)
    assert row[0] == "'=HYPERLINK(1)"


# --- terminal ---------------------------------------------------------------------------


def test_terminal_text_shows_the_board_total_reasons_limits_and_notes(grade):
    text = export.terminal_text(grade)
    assert "✓" in text and "✗" in text
    assert "Total: 5.5 / 10" in text
    assert "pools1 [spawn]: test_results_come_back[3]: failed" in text
    assert "shared_state1 [fork]: katas/shared_state1.py is not in the submission" in text
    assert "network: off: unshare not permitted" in text
    assert "ignored notes.txt" in text
    assert "\x1b" not in text and "\x00" not in text and "결과" in text


def test_terminal_text_leads_with_the_grader_failure(broken):
    assert export.terminal_text(broken).startswith("The grader failed: judge exited")


# --- hidden tests and writing -----------------------------------------------------------


ALL_OUTPUTS = {
    "json": lambda g: json.dumps(export.to_exercism(g), ensure_ascii=False),
    "junit": export.to_junit,
    "gradescope": lambda g: json.dumps(export.to_gradescope(g), ensure_ascii=False),
    "classroom": lambda g: json.dumps(export.to_classroom(g)),
    "csv": lambda g: export.to_csv(g, KATAS),
    "terminal": export.terminal_text,
}


@pytest.mark.parametrize("fmt", ALL_OUTPUTS)
def test_no_output_for_students_reveals_a_hidden_tests_details(grade, fmt):
    text = ALL_OUTPUTS[fmt](grade)
    assert "SECRET" not in text
    if fmt != "csv":
        assert "test_hidden_big_queue" in text  # the name is shown


def test_a_hidden_test_reads_as_a_neutral_failure_whatever_its_outcome():
    hidden = [t("queues1", f"test_hidden_{o}", "spawn", o, SECRET, hidden=True)
              for o in ("error", "timeout", "crashed")]
    g = make_grade(katas=[score_kata("queues1", "Q", 2, METHODS, hidden)])
    assert {(x["status"], x["message"]) for x in export.to_exercism(g)["tests"]} == {
        ("fail", "hidden test: failed")}
    suite = ET.fromstring(export.to_junit(g))[0]
    assert suite.get("errors") == "0"
    assert {f.get("message") for f in suite.iter("failure")} == {"hidden test: failed"}


def test_write_puts_the_model_and_each_format_under_its_fixed_name(grade, tmp_path):
    paths = export.write(grade, tmp_path / "out", ["json", "junit", "classroom"])
    out = tmp_path / "out"
    assert paths == {f: out / export.FILES[f] for f in ("model", "json", "junit", "classroom")}
    assert sorted(out.iterdir()) == sorted(paths.values())  # and no temporary files
    assert Grade.from_json(paths["model"].read_text(encoding="utf-8")) == grade
    assert paths["classroom"].read_text() == export.classroom_result(grade) + "\n"
    assert {p.stat().st_mode & 0o777 for p in paths.values()} == {0o644}


def test_write_replaces_earlier_files_whole(grade, tmp_path):
    export.write(make_grade(student="first"), tmp_path, export.FORMATS)
    paths = export.write(grade, tmp_path, export.FORMATS)
    assert len(list(tmp_path.iterdir())) == len(export.FILES)
    assert "alice" in paths["csv"].read_text(encoding="utf-8")


def test_write_refuses_an_unknown_format_before_writing_anything(grade, tmp_path):
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        export.write(grade, tmp_path, ["json", "pdf"])
    assert list(tmp_path.iterdir()) == []
