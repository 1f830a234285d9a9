"""The class outputs: CSV, the numbers, and the HTML page (checked as text and in Chromium).

The class below is 30 students on three katas (max 7 points), fork/spawn/forkserver:

    group        n  processes1 (2)  pools3 (2)         shared1 (3)       score
    solved      12  passed          passed             passed            7
    half         8  passed          passed             failed            4
    spawn-only   5  passed          partial: spawn     passed            6.33
    errored      1  passed          (not graded)       (not graded)      2, grading failed
    missing      1  passed          passed             missing           4
    injected     1  failed: <script> + Korean message  passed  passed    5
    void         1  passed          passed             void              4
    hidden       1  passed          partial: fork      passed            6  (fork and spawn only)
"""

import csv
import io
import os
import re
import shutil
import signal
import subprocess
from html.parser import HTMLParser

import pytest

from dojo.grading import report
from dojo.grading.model import Grade, score_kata, total
from dojo.grading import model

METHODS = ["fork", "spawn", "forkserver"]
KATAS = [("processes1", 2), ("pools3", 2), ("shared1", 3)]
TITLES = {"processes1": "Name your processes", "pools3": "Futures and results", "shared1": "Lost updates"}
INJECTED = "<script>alert(1)</script> 자식 프로세스에 이름을 붙이세요"
KOREAN_STUDENT = "김민준"
SECRET = "SECRET-HIDDEN-DETAIL"


def judged(kata, methods, failing_on=(), message="expected 4, got 3", hidden=False):
    return [
        model.TestGrade(kata, "test_it_works", m, "3.11", "failed" if m in failing_on else "passed",
                  message if m in failing_on else "", f"katas/{kata}.py:12" if m in failing_on else "",
                  hidden=hidden)
        for m in methods
    ]


def kata_grade(name, methods=METHODS, **how):
    status, reason = how.pop("status", ""), how.pop("reason", "")
    points = dict(KATAS)[name]
    return score_kata(name, TITLES[name], points, methods, judged(name, methods, **how), status=status, reason=reason)


def grade(student, katas, methods=METHODS, error=""):
    score, most = total(katas)
    return Grade(f"{student}.zip", student, "3.11", list(methods), score, 7.0 if error else most, katas,
                 limits={"wall": "on: 60 s per kata", "network": "off: unshare not permitted"},
                 notes=["ignored: notes.txt"], error=error)


def solved(student):
    return grade(student, [kata_grade("processes1"), kata_grade("pools3"), kata_grade("shared1")])


def build_class():
    grades = [solved(f"s{i:02d}") for i in range(1, 13)]
    grades += [grade(f"h{i:02d}", [kata_grade("processes1"), kata_grade("pools3"), kata_grade("shared1", failing_on=METHODS)])
               for i in range(1, 9)]
    grades += [grade(f"p{i:02d}", [kata_grade("processes1"), kata_grade("pools3", failing_on=["spawn"],
                                                                 message="cannot pickle 'function' object"),
                                   kata_grade("shared1")])
               for i in range(1, 6)]
    grades.append(grade("e01", [kata_grade("processes1")], error="the judge crashed: worker exited with -9"))
    grades.append(grade("m01", [kata_grade("processes1"), kata_grade("pools3"),
                                kata_grade("shared1", status="missing", reason="katas/shared1.py not in the submission")]))
    grades.append(grade(KOREAN_STUDENT, [kata_grade("processes1", failing_on=METHODS, message=INJECTED),
                                         kata_grade("pools3"), kata_grade("shared1")]))
    grades.append(grade("v01", [kata_grade("processes1"), kata_grade("pools3"),
                                kata_grade("shared1", status="void", reason="canary test_canary passed")]))
    two = ["fork", "spawn"]
    grades.append(grade("x01", [kata_grade("processes1", two), kata_grade("pools3", two, failing_on=["fork"], message=SECRET,
                                                               hidden=True), kata_grade("shared1", two)], methods=two))
    return grades


@pytest.fixture(scope="module")
def grades():
    return build_class()


@pytest.fixture(scope="module")
def page(grades):
    return report.class_html(grades, KATAS, title="Week 3: pools <and> shared state")


@pytest.fixture(scope="module")
def rows(grades):
    return list(csv.DictReader(io.StringIO(report.class_csv(grades, KATAS))))


# ---- CSV ------------------------------------------------------------------------------


def test_csv_has_one_row_per_student_sorted_by_id(rows, grades):
    got = [r["student"] for r in rows]
    assert got == sorted(g.student for g in grades), f"CSV students in order {got!r}: expected sorted ids"


def test_csv_columns_are_totals_then_katas_then_status(grades):
    header = report.class_csv(grades, KATAS).split("\n", 1)[0]
    assert header == "student,submission,score,max_score,processes1,pools3,shared1,status,python,start_methods"


@pytest.mark.parametrize("student, expected", [
    ("s01", {"score": "7", "max_score": "7", "processes1": "2", "pools3": "2", "shared1": "3", "status": "graded"}),
    ("h03", {"score": "4", "shared1": "0", "status": "graded"}),
    ("p02", {"score": "6.33", "pools3": "1.33", "status": "graded"}),
    ("m01", {"score": "4", "shared1": "0", "status": "graded"}),
    ("v01", {"score": "4", "shared1": "0", "status": "void: shared1: canary test_canary passed"}),
    ("x01", {"score": "6", "pools3": "1", "start_methods": "fork spawn"}),
    ("e01", {"pools3": "", "shared1": "", "status": "error: the judge crashed: worker exited with -9"}),
    (KOREAN_STUDENT, {"submission": f"{KOREAN_STUDENT}.zip", "score": "5", "processes1": "0"}),
])
def test_csv_row_numbers_and_status(rows, student, expected):
    row = next(r for r in rows if r["student"] == student)
    got = {k: row[k] for k in expected}
    assert got == expected, f"CSV row of {student}: {got!r}, expected {expected!r}"


def test_csv_lines_end_with_newline_only(grades):
    text = report.class_csv(grades, KATAS)
    assert "\r" not in text and text.endswith("\n") and text.count("\n") == len(grades) + 1


def test_write_class_csv_keeps_korean_names_in_utf8(tmp_path, grades):
    path = tmp_path / "class.csv"
    report.write_class_csv(path, grades, KATAS)
    assert KOREAN_STUDENT in path.read_bytes().decode("utf-8")


def test_csv_cell_that_a_spreadsheet_would_run_is_quoted_as_text():
    g = grade("=HYPERLINK(1)", [kata_grade("processes1"), kata_grade("pools3"), kata_grade("shared1")])
    row = next(csv.DictReader(io.StringIO(report.class_csv([g], KATAS))))
    assert row["student"] == "'=HYPERLINK(1)", f"student cell {row['student']!r} would run as a formula"


# ---- the numbers ----------------------------------------------------------------------


def test_summary_counts_mean_and_median(grades):
    s = report.class_summary(grades, KATAS)
    got = {k: s[k] for k in ("count", "graded", "errored", "max_score", "mean", "median", "methods")}
    # 29 finished scores: 12 x 7, 8 x 4, 5 x 6.33, 4, 5, 4, 6 -> 166.65 / 29; the 15th is 6.33
    assert got == {"count": 30, "graded": 29, "errored": 1, "max_score": 7.0, "mean": 5.75, "median": 6.33,
                   "methods": METHODS}


@pytest.mark.parametrize("name, missed, by_method", [
    ("processes1", 1, {"fork": (1, 29), "spawn": (1, 29), "forkserver": (1, 28)}),
    ("pools3", 6, {"fork": (1, 29), "spawn": (5, 29), "forkserver": (0, 28)}),
    ("shared1", 10, {"fork": (10, 29), "spawn": (10, 29), "forkserver": (10, 28)}),
])
def test_summary_misses_per_kata_and_start_method(grades, name, missed, by_method):
    k = report.class_summary(grades, KATAS)["katas"][name]
    assert (k["missed"], k["students"], k["miss_rate"]) == (missed, 29, pytest.approx(missed / 29))
    got = {m: (v["missed"], v["students"]) for m, v in k["methods"].items()}
    assert got == by_method, f"{name}: misses per start method {got!r}, expected {by_method!r}"
    assert k["methods"]["forkserver"]["miss_rate"] == pytest.approx(by_method["forkserver"][0] / 28)


def test_summary_of_an_empty_class_has_no_mean():
    s = report.class_summary([], KATAS)
    assert (s["count"], s["mean"], s["median"], s["katas"]["pools3"]["miss_rate"]) == (0, None, None, None)


# ---- the page as text -----------------------------------------------------------------


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.text = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def named(self, tag):
        return [attrs for t, attrs in self.tags if t == tag]


def test_page_loads_nothing_from_anywhere(page):
    found = re.findall(r"https?:|@import|<link\b|\b(?:src|href)\s*=\s*[\"']?//|url\(\s*[\"']?(?!#)", page, re.I)
    assert not found, f"the page refers outside itself: {found!r}"
    tags = Elements(page)
    assert not tags.named("script") and not tags.named("link") and not tags.named("img")
    hrefs = [a["href"] for a in tags.named("a")]
    assert all(h.startswith("#") for h in hrefs), f"links that leave the page: {hrefs!r}"


def test_injected_script_is_text(page):
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 자식 프로세스에 이름을 붙이세요" in page
    assert "".join(Elements(page).text).count("<script>alert(1)</script>") >= 1


def test_title_is_escaped(page):
    assert "<title>Week 3: pools &lt;and&gt; shared state</title>" in page


def test_hidden_test_shows_its_name_not_its_message(page):
    assert SECRET not in page
    assert "test_it_works: failed (hidden test)" in page


def test_header_shows_count_mean_median(page):
    text = " ".join(Elements(page).text)
    for fact in ("Students 30", "Grading failed 1", "Mean score 5.75 / 7", "Median score 6.33 / 7", "Generated 20"):
        assert fact in re.sub(r"\s+", " ", text), f"the header does not say {fact!r}"


def test_chart_cells_carry_the_numbers(page):
    svg = page[page.index("<svg"):page.index("</svg>")]
    for cell in ("pools3 under spawn: 5 of 29 students missed it (17%)",
                 "shared1 under forkserver: 10 of 28 students missed it (36%)",
                 "pools3 under forkserver: 0 of 28 students missed it (0%)"):
        assert f"<title>{cell}</title>" in svg, f"the chart has no cell titled {cell!r}"
    order = [svg.index(f">{name}</text>") for name in ("shared1", "pools3", "processes1")]
    assert order == sorted(order), "the chart should list the most missed kata first"


def test_table_has_a_row_per_student_with_glyphs_and_reasons(page, grades):
    tbody = page[page.index("<tbody>"):page.index("</tbody>")]
    assert tbody.count("<tr") == len(grades)
    assert "error: the judge crashed: worker exited with -9" in tbody
    assert "◐" in tbody and "✗" in tbody and "⊘" in tbody and "∅" in tbody
    assert '<span class="sr"> partial</span>' in tbody, "status must be readable as text, not only colour"


def test_details_list_failing_cells_limits_and_notes(page):
    details = page[page.index("<details"):]
    assert details.count("<details") == 30
    assert "<strong>spawn</strong>: test_it_works: failed: cannot pickle &#x27;function&#x27; object" in details
    assert "wall: on: 60 s per kata" in details and "ignored: notes.txt" in details
    assert "katas/shared1.py not in the submission" in details


# ---- the page in a browser ------------------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def find_chromium():
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium to render the page: install it with `apt-get install -y chromium` (Debian)")


def run_chromium(tmp_path, *args) -> str:
    """Chromium in its own process group, killed as a group whatever happens."""
    browser = find_chromium()
    command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{' '.join(command)} did not finish in 60 s; its process group was killed")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # helpers it may have left behind
        except ProcessLookupError:
            pass
    assert proc.returncode == 0, f"{' '.join(command)} exited {proc.returncode}:\n{err[-2000:]}"
    return out


@pytest.fixture
def page_file(tmp_path, grades):
    path = tmp_path / "class.html"
    report.write_class_html(path, grades, KATAS, title="Week 3")
    return path


def test_chromium_renders_chart_rows_and_escaped_script(tmp_path, page_file, grades):
    dom = Elements(run_chromium(tmp_path, "--dump-dom", page_file.as_uri()))
    assert not dom.named("script"), "the student's <script> became an element in the browser"
    assert "<script>alert(1)</script>" in "".join(dom.text)
    assert len(dom.named("svg")) == 1 and len(dom.named("rect")) >= 3 * 3, "the chart did not render"
    rows = [t for t, _ in dom.tags if t == "tr"]
    assert len(rows) == len(grades) + 1, f"{len(rows)} table rows rendered, expected a header and {len(grades)}"
    assert KOREAN_STUDENT in "".join(dom.text)


def test_chromium_screenshot_is_a_png(tmp_path, page_file):
    shot = tmp_path / "shot.png"
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", page_file.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, f"{shot} is not a rendered page"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 1600)


def test_kata_without_processes_is_its_own_column():
    def threads1(outcome):
        tests = [model.TestGrade("threads1", "test_pages", None, "3.11", outcome, "too slow" if outcome != "passed" else "")]
        return score_kata("threads1", "Threads for waiting", 2, METHODS, tests, processes=False)

    grades = [grade("a", [threads1("passed")]), grade("b", [threads1("failed")])]
    s = report.class_summary(grades, [("threads1", 2)])
    assert s["methods"] == [None]
    assert s["katas"]["threads1"]["methods"] == {None: {"students": 2, "missed": 1, "miss_rate": 0.5}}
    page = report.class_html(grades, [("threads1", 2)])
    assert "<title>threads1 (no processes): 1 of 2 students missed it (50%)</title>" in page
    assert "<strong>no processes</strong>: test_pages: failed: too slow" in page
