"""The results reader: a missing record is a failure, never a pass."""

import json

from dojo import results


def write(path, *records):
    path.write_text("".join(json.dumps({"schema": 1, **r}) + "\n" for r in records), encoding="utf-8")


def started(nodeid, method="fork"):
    return {"type": "started", "nodeid": nodeid, "kata": "k", "test": "t", "start_method": method, "python": "3.11"}


def test_a_test_that_started_and_never_reported_crashed(tmp_path):
    path = tmp_path / "r.jsonl"
    write(path, {"type": "session"}, started("a"), {**started("a"), "type": "result", "outcome": "passed"}, started("b"))
    run = results.read(str(path))
    assert {c.nodeid: c.outcome for c in run.cells} == {"a": "passed", "b": "crashed"}
    assert run.finished is None


def test_half_written_lines_and_other_schemas_are_ignored(tmp_path):
    path = tmp_path / "r.jsonl"
    write(path, started("a"), {"type": "result", "nodeid": "x", "schema": 2})
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"schema": 1, "type": "resu')
    run = results.read(str(path))
    assert [c.outcome for c in run.cells] == ["crashed"]


def test_an_unknown_outcome_counts_as_failed(tmp_path):
    path = tmp_path / "r.jsonl"
    write(path, {**started("a"), "type": "result", "outcome": "great"})
    assert results.read(str(path)).cells[0].failed


def test_a_missing_file_reads_as_no_results(tmp_path):
    run = results.read(str(tmp_path / "none.jsonl"))
    assert run.cells == [] and run.finished is None
