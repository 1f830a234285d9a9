"""Every grading output, made from the one model (``model.Grade``).

    format       file (in --out DIR)  shape
    model        grade.json           the whole model (always written; holds hidden details:
                                      for the instructor, never for students)
    terminal     summary.txt          kata x start method table, reasons, limits, notes
    json         results.json         exercism test-runner interface v3, one entry per test
    junit        junit.xml            pytest's xunit2 shape, built here from the model
    gradescope   gradescope.json      Gradescope results.json, one test per cell
    classroom    classroom.txt        GitHub Classroom runner ``result``: base64 of JSON
    csv          grade.csv            header and one row: a column per kata

Rules every exporter follows:

- A hidden test shows its name and nothing else: no message, no location, no outcome
  beyond pass or fail. A cell whose first failing test is hidden gets a neutral reason.
- Text from learner code is plain text: control characters (and whatever else XML 1.0
  forbids) are removed before it reaches any output, so a message cannot move the cursor
  of the terminal that shows it or break an XML parser.
- Platforms that record a grade (Gradescope, Classroom, the CSV gradebook) get 0 when the
  grader itself failed (``Grade.error``): incomplete results must not look final.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import platform
import re
import tempfile
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .model import Grade, cell_tests, round_points

FILES = {
    "json": "results.json",
    "junit": "junit.xml",
    "gradescope": "gradescope.json",
    "classroom": "classroom.txt",
    "csv": "grade.csv",
    "terminal": "summary.txt",
    "model": "grade.json",
}
FORMATS = ("terminal", "json", "junit", "gradescope", "classroom", "csv")

HIDDEN_FAILED = "hidden test: failed"
# exercism caps `output` at 500 characters and pytest's JUnit `message` attribute budget
# is 500; Classroom's reporter prints a `message` whole, so we cap it there too, to keep
# its log readable.
MESSAGE_LIMIT = 500

# C0 controls but tab and newline, DEL, C1 controls, lone surrogates, U+FFFE/U+FFFF:
# everything XML 1.0 forbids, plus what a terminal would act on (ESC, CR, BEL).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


# --- shared: clean text, hidden-safe messages and reasons ------------------------------


def clean(text: str) -> str:
    return _UNPRINTABLE.sub("", text or "")


def _shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """At most ``limit`` characters, saying so when cut."""
    if len(text) <= limit:
        return text
    note = f" [cut to {limit} characters]"
    return text[: limit - len(note)] + note


def _number(value: float):
    """7.0 -> 7, 7.5 -> 7.5: what a person expects to read."""
    value = round_points(value)
    return int(value) if value == int(value) else value


def _awarded(grade: Grade) -> float:
    return 0.0 if grade.error else grade.score


def student_message(t) -> str:
    """The message a student may see for one test (empty for a passed or hidden one)."""
    if t.hidden:
        return HIDDEN_FAILED if t.failed else ""
    text = clean(t.message)
    if t.where:
        text += f"\n  at {clean(t.where)}"
    return text.strip()


def _cell_tests(kata, cell) -> list:
    """The tests a cell is scored on (the same selection as ``model.score_kata``)."""
    return cell_tests(kata.tests, cell.start_method, processes=cell.start_method is not None)


def cell_reason(kata, cell) -> str:
    """Why a cell did not pass, with a hidden test reduced to its name."""
    if cell.passed:
        return ""
    failing = [t for t in _cell_tests(kata, cell) if t.failed]
    if kata.status not in ("missing", "void") and failing and failing[0].hidden:
        return f"{failing[0].name}: {HIDDEN_FAILED}"
    return clean(cell.reason)


def _kata_problem(kata) -> str:
    """A reason the kata lost points that none of its tests shows as a failure
    (missing, void, nothing ran, everything skipped); empty otherwise."""
    if kata.status in ("missing", "void"):
        return clean(kata.reason) or kata.status
    if kata.status != "passed" and not any(t.failed for t in kata.tests):
        return next((cell_reason(kata, c) for c in kata.cells if not c.passed), kata.status)
    return ""


def _method(start_method) -> str:
    return start_method or "once"


def _overall_status(grade: Grade) -> str:
    """pass | fail | error, as exercism and Classroom spell it."""
    if grade.error:
        return "error"
    if grade.katas and all(k.status == "passed" for k in grade.katas):
        return "pass"
    return "fail"


# --- exercism v3 ------------------------------------------------------------------------


def _exercism_status(t) -> str:
    # skipped -> pass: exercism has no skip status, and a skip is not a failure in our
    # scoring; exercism's own Python runner reports a skipped test as "pass" too.
    if not t.failed:
        return "pass"
    return "error" if t.outcome == "error" and not t.hidden else "fail"


def _exercism_test(t, task_id: int) -> dict:
    message = student_message(t)
    if t.outcome == "skipped" and not t.hidden:
        message = f"skipped: {message}" if message else "skipped"
    return {
        "name": t.label,
        "status": _exercism_status(t),
        "message": message or None,
        "test_code": "" if t.hidden else (t.code or t.name),
        "task_id": task_id,
        "kata": t.kata,
        "start_method": t.start_method,
        "python": t.python,
    }


def _exercism_kata_entry(kata, task_id: int, python: str, problem: str) -> dict:
    return {
        "name": kata.kata,
        "status": "fail",
        "message": problem,
        "test_code": "",
        "task_id": task_id,
        "kata": kata.kata,
        "start_method": None,
        "python": python,
    }


def to_exercism(grade: Grade) -> dict:
    """exercism interface v3: tests in manifest then file order; ``task_id`` is the kata's
    1-based place in the manifest. A kata that lost points for a reason no test shows
    (missing, void) gets an entry of its own, so ``fail`` always has a failing test."""
    tests = []
    for task_id, kata in enumerate(grade.katas, start=1):
        problem = _kata_problem(kata)
        if problem:
            tests.append(_exercism_kata_entry(kata, task_id, grade.python, problem))
        tests += [_exercism_test(t, task_id) for t in kata.tests]
    return {
        "version": 3,
        "status": _overall_status(grade),
        "message": clean(grade.error) if grade.error else None,
        "tests": tests,
    }


# --- JUnit XML --------------------------------------------------------------------------


def _junit_case(classname: str, name: str, seconds: float) -> ET.Element:
    return ET.Element("testcase", classname=classname, name=clean(name), time=f"{seconds:.3f}")


def _junit_verdict(t) -> ET.Element | None:
    if t.outcome == "passed":
        return None
    detail = student_message(t)
    if t.outcome == "skipped":
        return ET.Element("skipped", type="pytest.skip", message=_shorten(detail))
    tag = "error" if t.outcome == "error" and not t.hidden else "failure"
    first = detail.splitlines()[0] if detail else ""
    if t.hidden:
        message = HIDDEN_FAILED
    else:
        message = f"{t.outcome}: {first}" if first else t.outcome
    node = ET.Element(tag, message=_shorten(message))
    if not t.hidden:
        node.text = detail
    return node


def _junit_cases(grade: Grade) -> list:
    cases = []
    if grade.error:
        case = _junit_case("dojo", "grade", grade.duration)
        case.append(ET.Element("error", message=_shorten(clean(grade.error))))
        cases.append(case)
    for kata in grade.katas:
        problem = _kata_problem(kata)
        if problem:
            case = _junit_case(f"katas.{kata.kata}", kata.kata, 0.0)
            case.append(ET.Element("failure", message=_shorten(problem)))
            cases.append(case)
        for t in kata.tests:
            name = f"{t.name}[{t.start_method}]" if t.start_method else t.name
            case = _junit_case(f"katas.{kata.kata}", name, t.duration)
            verdict = _junit_verdict(t)
            if verdict is not None:
                case.append(verdict)
            cases.append(case)
    return cases


def to_junit(grade: Grade) -> str:
    """pytest's xunit2 layout (testsuites > testsuite > testcase), never pytest's file:
    a file written where learner code runs cannot be trusted."""
    cases = _junit_cases(grade)

    def count(tag):
        return str(sum(1 for c in cases if c.find(tag) is not None))

    suite = ET.Element(
        "testsuite",
        name="dojo",
        errors=count("error"),
        failures=count("failure"),
        skipped=count("skipped"),
        tests=str(len(cases)),
        time=f"{grade.duration:.3f}",
        timestamp=grade.started,
        hostname=platform.node(),
    )
    suite.extend(cases)
    root = ET.Element("testsuites")
    root.append(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --- Gradescope -------------------------------------------------------------------------

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-!|<>~])")


def _md(text: str) -> str:
    """Learner-influenced text (file names in notes) as literal markdown."""
    return _MARKDOWN.sub(r"\\\1", clean(text))


def _gradescope_output(grade: Grade) -> str:
    lines = [f"**Score: {_number(_awarded(grade))} / {_number(grade.max_score)}**", ""]
    if grade.error:
        lines += [f"**The grader failed:** {_md(grade.error)}", "",
                  "The results below are incomplete, so no points were awarded. "
                  "Ask your instructor to regrade.", ""]
    lines += [_md(f"Python {grade.python}, start methods: {', '.join(grade.start_methods)}"), ""]
    if grade.limits:
        lines += ["**Limits in force**", ""]
        lines += [f"- {_md(name)}: {_md(value)}" for name, value in grade.limits.items()]
        lines.append("")
    if grade.notes:
        lines += ["**Notes**", ""] + [f"- {_md(note)}" for note in grade.notes] + [""]
    return "\n".join(lines).rstrip() + "\n"


def _gradescope_cell_output(kata, cell) -> str:
    if cell.passed:
        return ""
    failing = [t for t in _cell_tests(kata, cell) if t.failed]
    lines = []
    if kata.status in ("missing", "void") or not failing:
        lines.append(cell_reason(kata, cell))
    for t in failing:
        if t.hidden:
            lines.append(f"{t.name}: {HIDDEN_FAILED}")
        else:
            lines.append(f"{t.name}: {t.outcome}\n{student_message(t)}".strip())
    return "\n\n".join(lines)


def _hundredths(shares: list, target: int) -> list:
    """Exact shares (Fractions, in points) as whole hundredths that add up to ``target``
    hundredths: each share's floor, then one more hundredth to the largest remainders
    (ties to the earlier share). Per-cell rounding would not add up (39.09 against 39)."""
    exact = [share * 100 for share in shares]
    cents = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - cents[i]), i))
    for i in order[: max(0, target - sum(cents))]:
        cents[i] += 1
    return cents


def _cell_cents(grade: Grade, kata) -> tuple[list, list]:
    """(awarded, most) hundredths per cell of ``kata``, from the exact cell shares: the
    awarded ones add up to the kata's rounded score, the most ones to its points."""
    count = len(kata.cells)
    share = Fraction(kata.max_points) / count if count else Fraction(0)
    got = [share if cell.passed and not grade.error else Fraction(0) for cell in kata.cells]
    awarded = 0 if grade.error else round(Fraction(kata.points) * 100)
    return _hundredths(got, awarded), _hundredths([share] * count, round(Fraction(kata.max_points) * 100))


def _gradescope_test(kata, kata_no: int, cell, cell_no: int, cents: tuple) -> dict:
    name = f"{kata.kata} / {cell.start_method}" if cell.start_method else kata.kata
    return {
        "name": name,
        "number": f"{kata_no}.{cell_no}",
        "score": _number(Fraction(cents[0], 100)),
        "max_score": _number(Fraction(cents[1], 100)),
        "status": "passed" if cell.passed else "failed",
        "output": _gradescope_cell_output(kata, cell),
        "output_format": "text",
        "tags": [kata.kata],
        "visibility": "visible",
    }


def to_gradescope(grade: Grade) -> dict:
    """Gradescope results.json: one test per cell (the scoring unit). The top-level
    ``score`` overrides the sum of the tests; the tests' scores are whole hundredths that
    add up to it exactly (largest remainder, per kata)."""
    tests = []
    for kata_no, kata in enumerate(grade.katas, start=1):
        awarded, most = _cell_cents(grade, kata)
        for cell_no, cell in enumerate(kata.cells, start=1):
            tests.append(_gradescope_test(kata, kata_no, cell, cell_no, (awarded[cell_no - 1], most[cell_no - 1])))
    return {
        "score": _awarded(grade),
        "execution_time": int(round(grade.duration)),
        "output": _gradescope_output(grade),
        "output_format": "md",
        "stdout_visibility": "hidden",
        "extra_data": {"python": grade.python, "start_methods": list(grade.start_methods)},
        "tests": tests,
    }


# --- GitHub Classroom -------------------------------------------------------------------


def _classroom_status(kata) -> str:
    if kata.status == "passed":
        return "pass"
    # a voided session could not be judged: the runners' "error" (timeout, no command)
    return "error" if kata.status == "void" else "fail"


def _classroom_message(kata) -> str:
    problem = _kata_problem(kata)
    if problem:
        return _shorten(problem)
    failing = [c for c in kata.cells if not c.passed]
    return _shorten("\n".join(f"{_method(c.start_method)}: {cell_reason(kata, c)}" for c in failing))


def _classroom_test(grade: Grade, kata) -> dict:
    return {
        "name": kata.kata,
        "status": _classroom_status(kata),
        "score": 0 if grade.error else _number(kata.points),
        "message": _classroom_message(kata),
        "test_code": "dojo grade",
        "filename": f"katas/{kata.kata}.py",
        "line_no": 0,
        "duration": int(round(sum(t.duration for t in kata.tests) * 1000)),
    }


def to_classroom(grade: Grade) -> dict:
    """The runner result that autograding-grading-reporter reads. Its reporter adds up
    the tests' ``score`` and prints ``Points X/Y``; it prints a test's ``message`` but not
    the top-level one, so a grader error comes as a test of its own."""
    tests = [_classroom_test(grade, kata) for kata in grade.katas]
    if grade.error:
        tests.insert(0, {
            "name": "dojo grade", "status": "error", "score": 0,
            "message": _shorten(clean(grade.error)), "test_code": "dojo grade",
            "filename": "", "line_no": 0, "duration": int(round(grade.duration * 1000)),
        })
    return {
        "version": 1,
        "status": _overall_status(grade),
        "max_score": _number(grade.max_score),
        "tests": tests,
    }


def classroom_result(grade: Grade) -> str:
    data = json.dumps(to_classroom(grade), separators=(",", ":"), ensure_ascii=True)
    return base64.b64encode(data.encode("ascii")).decode("ascii")


# --- CSV --------------------------------------------------------------------------------


def _spreadsheet_safe(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = clean(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def csv_header(kata_names: list) -> list:
    return ["student", "submission", "score", "max_score", *kata_names,
            "status", "python", "start_methods"]


def csv_row(grade: Grade, kata_names: list) -> list:
    points = {k.kata: _number(k.points) for k in grade.katas}
    status = f"error: {grade.error}" if grade.error else "graded"
    return [
        _spreadsheet_safe(grade.student),
        _spreadsheet_safe(grade.submission),
        _number(_awarded(grade)),
        _number(grade.max_score),
        *[points.get(name, "") for name in kata_names],
        _spreadsheet_safe(status),
        grade.python,
        " ".join(grade.start_methods),
    ]


def to_csv(grade: Grade, kata_names: list) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_header(kata_names))
    writer.writerow(csv_row(grade, kata_names))
    return out.getvalue()


# --- terminal ---------------------------------------------------------------------------

MARKS = {True: ("✓", "green"), False: ("✗", "red")}
STATUS_STYLES = {"passed": "green", "partial": "yellow", "failed": "red",
                 "missing": "red", "void": "bold red"}


def _mark(passed: bool) -> Text:
    char, style = MARKS[passed]
    return Text(char, style=style)


def _board(grade: Grade) -> Table:
    table = Table(title=Text(f"{grade.student} ({grade.submission})"), title_justify="left")
    table.add_column("kata")
    for method in grade.start_methods:
        table.add_column(method, justify="center")
    table.add_column("points", justify="right")
    table.add_column("status")
    for kata in grade.katas:
        by_method = {c.start_method: c for c in kata.cells}
        once = by_method.get(None)
        marks = []
        for i, method in enumerate(grade.start_methods):
            cell = once if once is not None and i == 0 else by_method.get(method)
            marks.append(_mark(cell.passed) if cell is not None else Text(""))
        name = Text(kata.kata + (" (once)" if once is not None else ""))
        points = Text(f"{_number(kata.points)}/{_number(kata.max_points)}")
        status = Text(kata.status, style=STATUS_STYLES.get(kata.status, ""))
        table.add_row(name, *marks, points, status)
    return table


def _first_line(text: str, width: int = 90) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def to_terminal(grade: Grade, console: Console | None = None) -> None:
    console = console or Console()
    if grade.error:
        console.print(Text(f"The grader failed: {clean(grade.error)}", style="bold red"))
        console.print(Text("Results are incomplete; no score is final."))
    console.print(_board(grade))
    total = f"Total: {_number(grade.score)} / {_number(grade.max_score)}"
    console.print(Text(total, style="bold"))
    failing = [(k, c) for k in grade.katas for c in k.cells if not c.passed]
    if failing:
        console.print(Text("\nWhy cells failed", style="bold"))
        for kata, cell in failing:
            where = f"{kata.kata} [{cell.start_method}]" if cell.start_method else kata.kata
            console.print(Text(f"  {where}: {_first_line(cell_reason(kata, cell))}"))
    if grade.limits:
        console.print(Text("\nLimits in force", style="bold"))
        for name, value in grade.limits.items():
            console.print(Text(f"  {clean(name)}: {clean(value)}"))
    if grade.notes:
        console.print(Text("\nNotes", style="bold"))
        for note in grade.notes:
            console.print(Text(f"  {clean(note)}"))


def terminal_text(grade: Grade) -> str:
    console = Console(record=True, width=100, no_color=True, color_system=None,
                      file=io.StringIO())
    to_terminal(grade, console)
    return console.export_text(styles=False)


# --- files ------------------------------------------------------------------------------


def _json_text(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


RENDERERS = {
    "model": lambda grade: grade.to_json() + "\n",
    "terminal": terminal_text,
    "json": lambda grade: _json_text(to_exercism(grade)),
    "junit": to_junit,
    "gradescope": lambda grade: _json_text(to_gradescope(grade)),
    "classroom": lambda grade: classroom_result(grade) + "\n",
    "csv": lambda grade: to_csv(grade, [k.kata for k in grade.katas]),
}


def _write_atomically(path: Path, text: str) -> None:
    # a reader (Gradescope's harness, a batch collector) sees the old file or the whole
    # new one, never half of it
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; results are read by other users
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write(grade: Grade, out_dir, formats) -> dict:
    """The model plus every requested format, each to its fixed name in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    wanted = ["model", *dict.fromkeys(f for f in formats if f != "model")]
    unknown = [f for f in wanted if f not in RENDERERS]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    texts = {fmt: RENDERERS[fmt](grade) for fmt in wanted}  # every format renders before any write
    paths = {fmt: out / FILES[fmt] for fmt in wanted}
    # the model last: whoever sees a kata in grade.json finds it in every other format too,
    # also when the grader is killed between two writes
    for fmt in [*wanted[1:], "model"]:
        _write_atomically(paths[fmt], texts[fmt])
    return paths
