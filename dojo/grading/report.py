"""A class's grades as one CSV file and one self-contained HTML page.

    [Grade] ──┬─ class_csv      one row per student: score, points per kata, status
              ├─ class_summary  the numbers: count, mean, median, misses per kata and
              │                 per (kata, start method)
              └─ class_html     header, miss-rate heat map (inline SVG), students table,
                                per-student details; nothing is loaded from anywhere

Who counts: mean, median and miss rates are over the students whose grading finished. A
grade with ``error`` set is incomplete, so it is listed with its reason but left out of
the numbers. A kata is *missed* when it is not fully passed (partial, failed, missing or
void); a cell (kata, start method) is missed when it did not pass. A kata that a finished
grade does not list at all counts as missed on each of that grade's start methods.
"""

from __future__ import annotations

import csv
import io
import statistics
from datetime import datetime, timezone
from html import escape

from . import model
from .model import round_points

DEFAULT_TITLE = "Class report"
METHOD_ORDER = ("fork", "spawn", "forkserver")
# A spreadsheet runs a cell that starts with one of these as a formula; student ids and
# submission names come from students.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
GLYPHS = {"passed": "✓", "partial": "◐", "failed": "✗", "missing": "∅", "void": "⊘", None: "?"}


# ---- shared ---------------------------------------------------------------------------


def _by_student(grades) -> list:
    return sorted(grades, key=lambda g: (g.student, g.submission))


def _katas_of(grade) -> dict:
    return {k.kata: k for k in grade.katas}


def _status(grade) -> str:
    """``graded``, ``error: <reason>`` or ``void: <kata>: <reason>; ...``."""
    if grade.error:
        return f"error: {grade.error}"
    void = [f"{k.kata}: {k.reason}" if k.reason else k.kata for k in grade.katas if k.status == "void"]
    return "void: " + "; ".join(void) if void else "graded"


def _points(value) -> str:
    """2.0 -> "2", 1.333 -> "1.33": at most two decimals, as the model rounds them."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _method_key(method):
    known = METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER)
    return (method is None, known, method or "")


def _method_name(method) -> str:
    return method if method is not None else "no processes"


# ---- CSV ------------------------------------------------------------------------------


def _text_cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def class_csv(grades, katas) -> str:
    """One row per student, sorted by student id; ``katas`` is [(name, max_points)]."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = [name for name, _ in katas]
    writer.writerow(["student", "submission", "score", "max_score", *names, "status", "python", "start_methods"])
    for grade in _by_student(grades):
        graded = _katas_of(grade)
        writer.writerow([
            _text_cell(grade.student),
            _text_cell(grade.submission),
            _points(grade.score),
            _points(grade.max_score),
            *(_points(graded[name].points) if name in graded else "" for name in names),
            _text_cell(_status(grade)),
            grade.python,
            " ".join(grade.start_methods),
        ])
    return buffer.getvalue()


def write_class_csv(path, grades, katas) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(class_csv(grades, katas))


# ---- the numbers ----------------------------------------------------------------------


def _rate(students: int, missed: int) -> dict:
    return {"students": students, "missed": missed, "miss_rate": missed / students if students else None}


def _cell_results(grade, kata) -> list:
    """[(start method, passed)] for one student's kata."""
    if kata is None:
        return [(method, False) for method in grade.start_methods]
    return [(cell.start_method, cell.passed) for cell in kata.cells]


def _kata_misses(grades, name: str, max_points) -> dict:
    missed = 0
    methods = {}  # start method -> [students, missed]
    for grade in grades:
        kata = _katas_of(grade).get(name)
        missed += kata is None or kata.status != "passed"
        for method, passed in _cell_results(grade, kata):
            tally = methods.setdefault(method, [0, 0])
            tally[0] += 1
            tally[1] += not passed
    ordered = sorted(methods, key=_method_key)
    return {
        "max_points": max_points,
        **_rate(len(grades), missed),
        "methods": {method: _rate(*methods[method]) for method in ordered},
    }


def class_summary(grades, katas) -> dict:
    """What the page shows, as numbers (see the module docstring for who counts)."""
    finished = [g for g in grades if not g.error]
    scores = [g.score for g in finished]
    per_kata = {name: _kata_misses(finished, name, points) for name, points in katas}
    methods = {m for kata in per_kata.values() for m in kata["methods"]}
    return {
        "count": len(grades),
        "graded": len(finished),
        "errored": len(grades) - len(finished),
        "max_score": round_points(sum(points for _, points in katas)),
        "mean": round_points(statistics.fmean(scores)) if scores else None,
        "median": round_points(statistics.median(scores)) if scores else None,
        "methods": sorted(methods, key=_method_key),
        "katas": per_kata,
    }


# ---- HTML: the page -------------------------------------------------------------------

# default-src 'none': even if something slipped past escaping, the page can neither run a
# script nor load anything; inline styles are all it needs.
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
{header}
{chart}
{table}
{details}
</body>
</html>
"""

CSS = """
body { font-family: system-ui, sans-serif; color: #1a1a1a; margin: 2rem auto; max-width: 75rem;
       padding: 0 1rem; line-height: 1.4; }
h1 { margin-bottom: .25rem; }
.facts { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: .5rem 0 1.5rem; padding: 0; }
.facts div { margin: 0; } .facts dt { font-size: .8rem; color: #555; } .facts dd { margin: 0;
       font-size: 1.3rem; font-weight: 600; }
figure { margin: 0 0 2rem; } figcaption { color: #444; margin-bottom: .5rem; max-width: 60rem; }
svg text { font-family: system-ui, sans-serif; }
table { border-collapse: collapse; margin-bottom: 2rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.kata { text-align: center; white-space: nowrap; }
.passed { background: #e3f4e1; } .partial { background: #fff1c9; } .failed { background: #fbdcdc; }
.missing { background: #e8e8e8; } .void { background: #eadcf5; } .none { background: #fafafa; }
tr.errored th, tr.errored td.status { background: #fbdcdc; font-weight: 600; }
.legend > span { margin-right: 1.25rem; white-space: nowrap; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
details { border: 1px solid #ccc; border-radius: 4px; padding: .25rem .75rem; margin: .25rem 0; }
details[open] { padding-bottom: .75rem; }
details p, details ul, details h4 { margin: .4rem 0; }
summary { cursor: pointer; font-weight: 600; }
.msg { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: .85rem;
       background: #f6f6f6; padding: .25rem .5rem; margin: .25rem 0; }
.where, .meta { color: #555; font-size: .85rem; }
.error { color: #8a1010; font-weight: 600; }
"""


def class_html(grades, katas, title: str = DEFAULT_TITLE) -> str:
    """The class as one HTML page: inline CSS and SVG, no script, nothing from other hosts."""
    summary = class_summary(grades, katas)
    return PAGE.format(
        title=escape(title),
        css=CSS,
        header=_header(title, summary),
        chart=_chart(summary),
        table=_table(grades, katas),
        details=_details(grades, katas),
    )


def write_class_html(path, grades, katas, title: str = DEFAULT_TITLE) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(class_html(grades, katas, title))


def _header(title: str, summary: dict) -> str:
    def number(value):
        return "—" if value is None else _points(value)

    facts = [
        ("Students", str(summary["count"])),
        ("Grading failed", str(summary["errored"])),
        ("Mean score", f"{number(summary['mean'])} / {_points(summary['max_score'])}"),
        ("Median score", f"{number(summary['median'])} / {_points(summary['max_score'])}"),
        ("Generated", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
    ]
    items = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in facts)
    return f"<header><h1>{escape(title)}</h1><dl class=\"facts\">{items}</dl></header>"


# ---- HTML: the chart ------------------------------------------------------------------

CELL_W, CELL_H, HEAD_H, BAR_W, GAP = 104, 40, 44, 170, 24
LOW, HIGH = (255, 245, 240), (165, 15, 21)  # miss rate 0 and 1


def _shade(rate: float) -> str:
    return "#" + "".join(f"{round(lo + (hi - lo) * rate):02x}" for lo, hi in zip(LOW, HIGH))


def _percent(rate) -> str:
    return "n/a" if rate is None else f"{rate:.0%}"


def _heat_cell(x: int, y: int, kata: str, method, numbers) -> str:
    name = f"{kata} under {method}" if method else f"{kata} (no processes)"
    if numbers is None or numbers["students"] == 0:
        tip = f"{name}: no student ran it"
        return (f'<g><title>{escape(tip)}</title><rect x="{x}" y="{y}" width="{CELL_W - 4}" '
                f'height="{CELL_H - 4}" fill="#f2f2f2"/><text x="{x + CELL_W // 2 - 2}" y="{y + 23}" '
                f'text-anchor="middle" fill="#777" font-size="13">n/a</text></g>')
    rate, missed, students = numbers["miss_rate"], numbers["missed"], numbers["students"]
    tip = f"{name}: {missed} of {students} students missed it ({_percent(rate)})"
    ink = "#fff" if rate > 0.5 else "#1a1a1a"
    mid = x + CELL_W // 2 - 2
    return (f'<g><title>{escape(tip)}</title>'
            f'<rect x="{x}" y="{y}" width="{CELL_W - 4}" height="{CELL_H - 4}" fill="{_shade(rate)}" '
            f'stroke="#ccc"/>'
            f'<text x="{mid}" y="{y + 16}" text-anchor="middle" fill="{ink}" font-size="14" '
            f'font-weight="600">{_percent(rate)}</text>'
            f'<text x="{mid}" y="{y + 31}" text-anchor="middle" fill="{ink}" font-size="11">'
            f'{missed}/{students}</text></g>')


def _overall_bar(x: int, y: int, kata: str, numbers: dict) -> str:
    rate = numbers["miss_rate"] or 0.0
    width = round(BAR_W * rate)
    text = f"{_percent(numbers['miss_rate'])} · {numbers['missed']}/{numbers['students']}"
    tip = f"{kata}: {numbers['missed']} of {numbers['students']} students did not pass it on every start method"
    return (f'<g><title>{escape(tip)}</title>'
            f'<rect x="{x}" y="{y + 8}" width="{BAR_W}" height="{CELL_H - 20}" fill="#f2f2f2"/>'
            f'<rect x="{x}" y="{y + 8}" width="{width}" height="{CELL_H - 20}" fill="{_shade(rate)}"/>'
            f'<text x="{x + BAR_W + 6}" y="{y + 23}" font-size="13">{escape(text)}</text></g>')


def _most_missed(summary: dict) -> list:
    """Kata names, most missed first; manifest order among equals."""
    katas = summary["katas"]
    return sorted(katas, key=lambda name: -(katas[name]["miss_rate"] or 0.0))


def _chart(summary: dict) -> str:
    names, methods = _most_missed(summary), summary["methods"]
    label_w = max([len(n) for n in names] + [8]) * 8 + 16
    bar_x = label_w + len(methods) * CELL_W + GAP
    width, height = bar_x + BAR_W + 110, HEAD_H + len(names) * CELL_H + 8
    parts = [f'<text x="{label_w + i * CELL_W + CELL_W // 2 - 2}" y="{HEAD_H - 12}" text-anchor="middle" '
             f'font-size="13" font-weight="600">{escape(_method_name(m))}</text>' for i, m in enumerate(methods)]
    parts.append(f'<text x="{bar_x}" y="{HEAD_H - 12}" font-size="13" font-weight="600">kata overall</text>')
    for row, name in enumerate(names):
        y = HEAD_H + row * CELL_H
        kata = summary["katas"][name]
        parts.append(f'<text x="{label_w - 10}" y="{y + 23}" text-anchor="end" font-size="13">{escape(name)}</text>')
        parts += [_heat_cell(label_w + i * CELL_W, y, name, m, kata["methods"].get(m)) for i, m in enumerate(methods)]
        parts.append(_overall_bar(bar_x, y, name, kata))
    worst = ", ".join(f"{n} {_percent(summary['katas'][n]['miss_rate'])}" for n in names)
    svg = (f'<svg role="img" aria-labelledby="chart-title chart-desc" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}"><title id="chart-title">Share of students who missed each kata, '
           f'by start method</title><desc id="chart-desc">Most missed first: {escape(worst)}.</desc>'
           + "".join(parts) + "</svg>")
    errored = summary["errored"]
    left_out = f" Left out: {errored} student{'s' if errored > 1 else ''} whose grading failed." if errored else ""
    caption = (f"Which katas students miss most: for each kata and start method, the share of the "
               f"{summary['graded']} graded students whose cell did not pass (darker means more; the "
               f"numbers are missed/students). The last column counts a kata as missed unless it "
               f"passed on every start method.{left_out}")
    return (f'<section><h2>Most missed katas</h2><figure><figcaption>{escape(caption)}</figcaption>'
            f"{svg}</figure></section>")


# ---- HTML: the students table ---------------------------------------------------------


def _status_word(status) -> str:
    return status or "not graded"


def _kata_cell(kata) -> str:
    status = kata.status if kata is not None else None
    points = f" {_points(kata.points)}" if kata is not None else ""
    css = status or "none"
    return (f'<td class="kata {css}" title="{escape(_status_word(status))}">'
            f'<span aria-hidden="true">{GLYPHS.get(status, "?")}</span>{points}'
            f'<span class="sr"> {escape(_status_word(status))}</span></td>')


def _student_row(index: int, grade, names: list) -> str:
    graded = _katas_of(grade)
    status = _status(grade)
    css = ' class="errored"' if grade.error else ""
    warn = '<span aria-hidden="true">⚠ </span>' if grade.error else ""
    return (f"<tr{css}><th scope=\"row\"><a href=\"#student-{index}\">{escape(grade.student)}</a></th>"
            f'<td class="num">{_points(grade.score)} / {_points(grade.max_score)}</td>'
            + "".join(_kata_cell(graded.get(name)) for name in names)
            + f'<td class="status">{warn}{escape(status)}</td></tr>')


def _legend() -> str:
    items = "".join(f'<span><span aria-hidden="true">{glyph}</span> {escape(_status_word(status))}</span>'
                    for status, glyph in GLYPHS.items())
    return f'<p class="legend">{items}</p>'


def _table(grades, katas) -> str:
    names = [name for name, _ in katas]
    heads = "".join(f'<th scope="col">{escape(name)}</th>' for name in names)
    rows = "".join(_student_row(i, g, names) for i, g in enumerate(_by_student(grades), 1))
    return ("<section><h2>Students</h2>" + _legend()
            + '<table><caption class="sr">Students by id: score and points per kata</caption>'
            f'<thead><tr><th scope="col">Student</th><th scope="col">Score</th>{heads}'
            f'<th scope="col">Status</th></tr></thead><tbody>{rows}</tbody></table></section>')


# ---- HTML: per-student details --------------------------------------------------------


def _cell_reason(kata, cell) -> str:
    """The cell's reason, without the message of a hidden test: its name and outcome only.

    score_kata builds the reason from the cell's first failing test; find that test again.
    """
    mine = model.cell_tests(kata.tests, cell.start_method, processes=cell.start_method is not None)
    failing = [t for t in mine if t.failed]
    if failing and failing[0].hidden:
        return f"{failing[0].name}: {failing[0].outcome} (hidden test)"
    return cell.reason


def _failing_test(test) -> str:
    head = f"<code>{escape(test.label)}</code>: {escape(test.outcome)}"
    if test.hidden:
        return f"<li>{head} <span class=\"meta\">(hidden test)</span></li>"
    message = f'<div class="msg">{escape(test.message)}</div>' if test.message else ""
    where = f'<div class="where">{escape(test.where)}</div>' if test.where else ""
    return f"<li>{head}{message}{where}</li>"


def _kata_detail(kata) -> str:
    head = (f"<h4>{GLYPHS.get(kata.status, '?')} {escape(kata.kata)} — {escape(kata.title)}: "
            f"{escape(kata.status)}, {_points(kata.points)} / {_points(kata.max_points)}</h4>")
    reason = f"<p>{escape(kata.reason)}</p>" if kata.reason else ""
    # a missing or void kata's cells all repeat the kata's reason
    failing = [c for c in kata.cells if not c.passed and kata.status not in ("missing", "void")]
    cells = "".join(f"<li><strong>{escape(_method_name(c.start_method))}</strong>: "
                    f"{escape(_cell_reason(kata, c))}</li>" for c in failing)
    tests = "".join(_failing_test(t) for t in kata.tests if t.failed)
    return (head + reason
            + (f"<p>Cells that did not pass:</p><ul>{cells}</ul>" if cells else "")
            + (f"<p>Failing tests:</p><ul>{tests}</ul>" if tests else ""))


def _student_detail(index: int, grade, names: list) -> str:
    graded = _katas_of(grade)
    score = f"{_points(grade.score)} / {_points(grade.max_score)}"
    summary = f"{escape(grade.student)} — {score} — {escape(_status(grade))}"
    meta = (f'<p class="meta">Submission {escape(grade.submission)}; Python {escape(grade.python)}; '
            f"start methods {escape(', '.join(grade.start_methods) or 'none')}"
            + (f"; graded {escape(grade.started)}" if grade.started else "") + "</p>")
    error = f'<p class="error">Grading failed: {escape(grade.error)}</p>' if grade.error else ""
    missed = [graded[n] for n in names if n in graded and graded[n].status != "passed"]
    absent = [n for n in names if n not in graded]
    body = "".join(_kata_detail(k) for k in missed)
    if absent:
        body += f"<p>Not graded: {escape(', '.join(absent))}</p>"
    if not body:
        body = "<p>Every kata passed on every start method.</p>"
    limits = "".join(f"<li>{escape(str(k))}: {escape(str(v))}</li>" for k, v in grade.limits.items())
    notes = "".join(f"<li>{escape(str(n))}</li>" for n in grade.notes)
    return (f'<details id="student-{index}"><summary>{summary}</summary>{meta}{error}{body}'
            + (f"<p>Limits in force:</p><ul>{limits}</ul>" if limits else "")
            + (f"<p>Notes:</p><ul>{notes}</ul>" if notes else "")
            + "</details>")


def _details(grades, katas) -> str:
    names = [name for name, _ in katas]
    items = "".join(_student_detail(i, g, names) for i, g in enumerate(_by_student(grades), 1))
    return f"<section><h2>Students in detail</h2>{items}</section>"
