"""Structured results: JSON Lines that the plugin writes and the controller reads.

Schema (version 1), one JSON object per line, flushed as it happens:

    {"schema": 1, "type": "session",  "python": "3.11", "target": "katas",
     "start_methods": ["fork", "spawn", "forkserver"], "pid": 1234, "lang": "en"}
    {"schema": 1, "type": "started",  "nodeid": "...", "kata": "processes1",
     "test": "test_every_child_reports_its_own_name", "start_method": "spawn",
     "python": "3.11"}
    {"schema": 1, "type": "result",   ...the same keys as "started"...,
     "outcome": "passed|failed|error|timeout|crashed|leaked|skipped",
     "message": "the teaching message", "where": "katas/pools3.py:27", "stack": "...",
     "leaks": ["pid 123 (running): python ..."], "duration": 0.123}
    {"schema": 1, "type": "finished", "exitstatus": 1}

A ``started`` record with no ``result`` after it means the run died inside that test
(``os._exit``, a segfault, a kill): the reader turns it into ``crashed``. A test that was
expected but has no record at all is a failure too, never a pass. A run ended by a
test's timeout is resumed by a new run of the tests left (``needs_resume``), which appends
its records to the same file: the reader keeps every run's collected tests.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

SCHEMA = 1
OUTCOMES = ("passed", "failed", "error", "timeout", "crashed", "leaked", "skipped")
FAILING = {"failed", "error", "timeout", "crashed", "leaked"}


class Writer:
    """Appends records to a file; each record is one ``write`` on an O_APPEND descriptor,
    so a crash never leaves half a line and a forked child can never reorder lines."""

    def __init__(self, path: str | None = None, fd: int | None = None):
        if fd is None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.fd = fd
        os.set_inheritable(self.fd, False)

    def write(self, type_: str, **fields) -> None:
        record = {"schema": SCHEMA, "type": type_, **fields}
        os.write(self.fd, (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode())

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class Cell:
    """One result: (kata, test, start method, Python) -> outcome."""

    kata: str
    test: str
    start_method: str | None
    python: str
    outcome: str
    message: str = ""
    where: str = ""
    stack: str = ""
    leaks: list = field(default_factory=list)
    duration: float = 0.0
    nodeid: str = ""
    case: str = ""  # the test's name with its parameters, without the start method
    taught: str = ""  # the key of the teaching message the failure carried, if any
    clauses: list = field(default_factory=list)  # the kata's clauses the test checks

    @property
    def failed(self) -> bool:
        return self.outcome in FAILING


@dataclass
class Run:
    session: dict
    cells: list
    finished: dict | None
    collected: list = field(default_factory=list)  # the ids of every test the session collected
    duplicates: list = field(default_factory=list)  # nodeids with more than one result

    def for_kata(self, kata: str) -> list:
        return [c for c in self.cells if c.kata == kata]


def read(path: str) -> Run:
    """Read a results file. Unparseable lines are skipped (a run killed mid-write leaves
    at most one), ``started`` without ``result`` becomes ``crashed``."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.readlines()
    except OSError:
        lines = []
    return parse(lines)


def parse(lines: list) -> Run:
    """``read``, from lines already in memory (grading reads them from a pipe)."""
    session: dict = {}
    finished = None
    started: dict[str, dict] = {}
    cells: dict[str, Cell] = {}
    collected: list = []
    duplicates: list = []
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if not isinstance(rec, dict) or rec.get("schema") != SCHEMA:
            continue
        kind = rec.get("type")
        if kind == "session":
            session = rec
        elif kind == "finished":
            finished = rec
        elif kind == "started":
            started[rec["nodeid"]] = rec
        elif kind == "collected":  # a resumed run collects only what is left: keep every run's
            known = {t["nodeid"] for t in collected}
            collected += [t for t in rec.get("tests", []) if isinstance(t, dict) and "nodeid" in t
                          and t["nodeid"] not in known]
        elif kind == "result":
            if rec["nodeid"] in cells:
                duplicates.append(rec["nodeid"])
            cells[rec["nodeid"]] = _cell(rec, rec.get("outcome", "failed"))
    for nodeid, rec in started.items():
        if nodeid not in cells:
            cells[nodeid] = _cell(rec, "crashed")
    return Run(session, list(cells.values()), finished, collected, duplicates)


def needs_resume(run: Run) -> bool:
    """The run was ended by a test's timeout before it finished (pytest-timeout's thread
    method, where there is no SIGALRM, ends the process; so does a hang that cleanup
    cannot end): its last record is that test's timeout, and tests it collected have no
    result yet. A new run of those tests, appending to the same file, resumes it."""
    if run.finished is not None or not run.cells or run.cells[-1].outcome != "timeout":
        return False
    done = {c.nodeid for c in run.cells}
    return any(t["nodeid"] not in done for t in run.collected)


def _cell(rec: dict, outcome: str) -> Cell:
    if outcome not in OUTCOMES:
        outcome = "failed"
    return Cell(
        kata=rec.get("kata", ""),
        test=rec.get("test", ""),
        start_method=rec.get("start_method"),
        python=rec.get("python", ""),
        outcome=outcome,
        message=rec.get("message", ""),
        where=rec.get("where", ""),
        stack=rec.get("stack", ""),
        leaks=rec.get("leaks", []),
        duration=rec.get("duration", 0.0),
        taught=rec.get("taught", ""),
        clauses=list(rec.get("clauses", [])),
        nodeid=rec.get("nodeid", ""),
        case=rec.get("case", "") or rec.get("test", ""),
    )
