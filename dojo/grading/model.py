"""The one result model every grading output is made from.

    Grade                        one submission
      katas: [KataGrade]         in manifest order
        cells: [CellGrade]       the scoring unit: (kata, start method)
        tests: [TestGrade]       (kata, test, start method): what the judge recorded

Scoring (documented in GRADING.md):

- A cell passes when every visible and hidden test of its kata passed on its start method
  (a skipped test neither passes nor fails a cell, but a cell needs at least one passed
  test). A test the judge has no record of is ``missing``, a failure.
- A kata's points (manifest ``points``) are split evenly across the start methods in force;
  a kata whose manifest says ``processes = false`` is one cell with all its points.
- Cell points are exact fractions; a kata's score is the sum of its passed cells, rounded
  to two decimals (half to even); the total is the sum of the rounded kata scores.
- A session voided by the integrity checks (a canary that did not fail, a result recorded
  twice, a sealed file changed during the run) scores 0 for that kata, with the reason.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from fractions import Fraction

SCHEMA = 1
# passed and skipped are not failures; everything else is
OUTCOMES = ("passed", "failed", "error", "timeout", "crashed", "leaked", "skipped", "missing")
KATA_STATUSES = ("passed", "partial", "failed", "missing", "void")


@dataclass
class TestGrade:
    __test__ = False  # not a pytest test class, though its name says Test
    kata: str
    name: str  # the test's id without the start method, e.g. "test_lost_update[3-20]"
    start_method: str | None  # None: the test does not run under a start method
    python: str  # "3.11"
    outcome: str
    message: str = ""  # the teaching message (or the reason), plain text
    where: str = ""  # "katas/pools3.py:27 (collect): future.result()"
    duration: float = 0.0  # seconds
    hidden: bool = False  # from the instructor's hidden tests: name shown, details not
    code: str = ""  # the test function's source (visible tests only): exercism's test_code

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def failed(self) -> bool:
        return self.outcome not in ("passed", "skipped")

    @property
    def label(self) -> str:
        """``kata / test [method]``: how a test is named in every output."""
        method = f" [{self.start_method}]" if self.start_method else ""
        return f"{self.kata} / {self.name}{method}"


@dataclass
class CellGrade:
    kata: str
    start_method: str | None  # None: a kata that starts no processes (one cell)
    passed: bool
    points: float
    max_points: float
    reason: str = ""  # why it did not pass: the first failing test and its message


@dataclass
class KataGrade:
    kata: str
    title: str
    points: float
    max_points: float
    status: str  # passed | partial | failed | missing | void
    reason: str = ""  # for missing, void, or a failure before any test ran
    cells: list = field(default_factory=list)  # [CellGrade]
    tests: list = field(default_factory=list)  # [TestGrade]


@dataclass
class Grade:
    submission: str  # what was graded (a folder, zip or checkout name)
    student: str  # the student's id: --student, else derived from the submission's name
    python: str
    start_methods: list
    score: float
    max_score: float
    katas: list = field(default_factory=list)  # [KataGrade]
    limits: dict = field(default_factory=dict)  # limit -> "on: ..." | "off: why"
    notes: list = field(default_factory=list)  # ignored files, changed tests, ...
    error: str = ""  # the grader itself failed: results are incomplete
    started: str = ""  # ISO 8601, UTC
    duration: float = 0.0
    dojo_version: str = ""
    schema: int = SCHEMA

    @property
    def tests(self) -> list:
        return [t for k in self.katas for t in k.tests]

    @property
    def cells(self) -> list:
        return [c for k in self.katas for c in k.cells]

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> "Grade":
        data = dict(data)
        katas = []
        for k in data.pop("katas", []):
            k = dict(k)
            cells = [CellGrade(**c) for c in k.pop("cells", [])]
            tests = [TestGrade(**t) for t in k.pop("tests", [])]
            katas.append(KataGrade(**k, cells=cells, tests=tests))
        return cls(**data, katas=katas)

    @classmethod
    def from_json(cls, text: str) -> "Grade":
        return cls.from_dict(json.loads(text))


def round_points(value) -> float:
    """Two decimals, half to even (Python's round on the exact fraction)."""
    return float(round(Fraction(value), 2))


def score_kata(
    kata: str,
    title: str,
    points: int,
    methods: list,
    tests: list,
    *,
    processes: bool = True,
    status: str = "",
    reason: str = "",
) -> KataGrade:
    """Cells and points for one kata from its tests.

    ``methods`` are the start methods in force; ``status``/``reason`` force a kata that
    could not be run (``missing``) or whose session was voided (``void``) to zero.
    """
    cell_methods = list(methods) if processes else [None]
    share = Fraction(points, len(cell_methods)) if cell_methods else Fraction(0)
    cells = []
    for method in cell_methods:
        mine = cell_tests(tests, method, processes)
        failing = [t for t in mine if t.failed]
        passed = not status and bool(mine) and not failing and any(t.passed for t in mine)
        if passed:
            why = ""
        elif status:
            why = reason
        elif failing:
            first = failing[0]
            if first.hidden:  # a hidden test shows its name, never its details
                why = f"{first.name}: hidden test: failed"
            else:
                why = f"{first.name}: {first.outcome}" + (f": {first.message}" if first.message else "")
        elif not mine:
            why = "no test ran on this start method"
        else:
            why = "every test was skipped"
        cells.append(CellGrade(kata, method, passed, float(share if passed else 0), float(share), why))
    earned = round_points(sum((Fraction(c.points) for c in cells), Fraction(0)))
    if status:
        final = status
    elif all(c.passed for c in cells):
        final = "passed"
    elif any(c.passed for c in cells):
        final = "partial"
    else:
        final = "failed"
    return KataGrade(kata, title, earned, float(points), final, reason, cells, list(tests))


def cell_tests(tests: list, method, processes: bool = True) -> list:
    """The tests that decide one cell: those run on its start method (and those that run
    under none); a kata that starts no processes has one cell with all its tests."""
    if not processes:
        return list(tests)
    return [t for t in tests if t.start_method in (method, None)]


def total(katas: list) -> tuple[float, float]:
    score = round_points(sum((Fraction(k.points) for k in katas), Fraction(0)))
    most = round_points(sum((Fraction(k.max_points) for k in katas), Fraction(0)))
    return score, most
