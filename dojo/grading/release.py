"""Releasing the kit: the students' bundle, the Gradescope autograder, the Classroom workflow.

    dojo release OUT                  the students' bundle, a folder or OUT.zip:
                                      katas (unsolved), tests, settings, dojo, seal.json;
                                      never solutions/ or hidden/
    dojo export gradescope OUT.zip    the autograder zip: setup.sh and run_autograder at
                                      its root beside the kit with hidden/ (not solutions/)
                                      and seal.json; Gradescope unpacks it into
                                      /autograder/source
    dojo export classroom OUT_DIR --kit-url URL --kit-sha256 HEX [--kit-token-secret NAME]
                                      .github/workflows/classroom.yml and CLASSROOM.md

Every zip is deterministic (entries sorted, dated 1980-01-01, modes 0644 or 0755, no
directory entries), so one kit always gives one sha256: the hash a Classroom workflow
pins. Every seal is computed on exactly what is shipped, after copying, and checked
before the release is written. The dojo package shipped is the one running this command
(what the seal records); a kit whose own ``dojo/`` differs from it is refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

import dojo
from dojo import manifest as manifest_mod
from dojo.grading import seal

COMMANDS = ("release", "export")
RELEASE_FAILED = 2

# What a bundle holds, from the kit's root (those that exist).
TOP_FILES = ("katas.toml", "conftest.py", "pyproject.toml", "tox.ini", "toxfile.py",
             "README.md", "README.ko.md", "MANIFEST.md", ".gitignore")
STUDENT_FOLDERS = ("katas", "tests")
# Folders of the kit a release must never be written into (nor a kit folder it copies).
KIT_FOLDERS = ("katas", "tests", seal.HIDDEN, "solutions", "dojo")
# Never copied, at any depth.
SKIPPED_NAMES = {"__pycache__", ".git", ".dojo", ".tox", ".venv", ".pytest_cache",
                 ".mypy_cache", ".ruff_cache", ".DS_Store", "build", "dist"}
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".egg-info")

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
GRADESCOPE_SCRIPTS = ("setup.sh", "run_autograder")
SHA256_RE = re.compile(r"\A[0-9a-f]{64}\Z")
# RFC 3986 characters, less those that could end a YAML quoted scalar or start a
# GitHub expression ("'", '"', "$", "`", "\", whitespace)
URL_RE = re.compile(r"\Ahttps?://[A-Za-z0-9._~:/?#\[\]@!&()*+,;=%-]+\Z")
SECRET_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")


class ReleaseError(Exception):
    """The release cannot be made (where it would go, or what the kit holds)."""


# --- CLI ------------------------------------------------------------------------------


def add_parsers(sub) -> None:
    p = sub.add_parser("release", help="the students' bundle (a folder, or OUT.zip): no solutions, no hidden tests")
    p.add_argument("out", type=Path, metavar="OUT", help="an empty or new folder, or a path ending .zip")

    p = sub.add_parser("export", help="the kit for a grading platform: gradescope or classroom")
    targets = p.add_subparsers(dest="platform", metavar="PLATFORM")
    targets.required = True
    g = targets.add_parser("gradescope", help="the Gradescope autograder zip (setup.sh, run_autograder, the kit)")
    g.add_argument("out", type=Path, metavar="OUT.zip")
    c = targets.add_parser("classroom", help="a GitHub Classroom workflow that grades with the kit pinned by hash")
    c.add_argument("out", type=Path, metavar="OUT_DIR", help="the template repository (or any folder)")
    c.add_argument("--kit-url", required=True, metavar="URL",
                   help="where the kit zip is published (a `dojo release OUT.zip`; see CLASSROOM.md)")
    c.add_argument("--kit-sha256", required=True, metavar="HEX", help="the kit zip's sha256, as `dojo release` printed it")
    c.add_argument("--kit-token-secret", metavar="NAME",
                   help="a repository or organization secret sent as a Bearer token (a private kit URL)")
    c.add_argument("--force", action="store_true", help="overwrite an existing classroom.yml and CLASSROOM.md")


def run(args, root: Path) -> int:
    name = args.command if args.command == "release" else f"export {args.platform}"
    try:
        if args.command == "release":
            lines = release(root, args.out)
        elif args.platform == "gradescope":
            lines = export_gradescope(root, args.out)
        else:
            lines = export_classroom(root, args.out, args.kit_url, args.kit_sha256,
                                     token_secret=args.kit_token_secret, force=args.force)
    except (ReleaseError, OSError) as exc:
        print(f"dojo {name}: {exc}", file=sys.stderr)
        return RELEASE_FAILED
    print("\n".join(lines))
    return 0


# --- the three products ---------------------------------------------------------------


def release(kit: Path, out: Path) -> list[str]:
    """The students' bundle at ``out`` (a folder, or a zip if it ends .zip); what was written."""
    kit, out = Path(kit).resolve(), _absolute(out)
    manifest = _check_kit(kit)
    as_zip = out.suffix.lower() == ".zip"
    _check_out(kit, out, as_zip)
    notes = _solved_katas(kit, manifest)
    with _Stage(out.parent) as stage:
        counts = _fill(kit, stage.path, STUDENT_FOLDERS)
        sealed = _seal(stage.path, hidden=False)
        lines = [f"dojo release: {'wrote' if as_zip else 'made'} {out}", _contents(counts)]
        lines.append(f"  seal.json: {len(sealed['files'])} sealed files, {len(sealed['dojo'])} dojo files")
        lines.append(f"  left out: solutions/, {seal.HIDDEN}/ (instructor only)")
        if as_zip:
            digest = write_zip(stage.path, out)
            lines.append(f"  sha256 {digest}  {out.name}")
            lines.append("  pin this hash: dojo export classroom DIR --kit-url URL "
                         f"--kit-sha256 {digest}")
        else:
            stage.move_to(out)
    return [*lines, *(f"  warning: {note}" for note in notes)]


def export_gradescope(kit: Path, out: Path) -> list[str]:
    """The Gradescope autograder zip at ``out``; what was written."""
    kit, out = Path(kit).resolve(), _absolute(out)
    manifest = _check_kit(kit)
    if out.suffix.lower() != ".zip":
        raise ReleaseError(f"{out}: the autograder must be a .zip file (Gradescope uploads a zip)")
    _check_out(kit, out, True)
    notes = _solved_katas(kit, manifest)
    hidden = sorted(p.name for p in (kit / seal.HIDDEN).glob("test_*.py")) if (kit / seal.HIDDEN).is_dir() else []
    with _Stage(out.parent) as stage:
        counts = _fill(kit, stage.path, (*STUDENT_FOLDERS, seal.HIDDEN))
        for name in GRADESCOPE_SCRIPTS:
            text = SETUP_SH if name == "setup.sh" else RUN_AUTOGRADER
            (stage.path / name).write_text(text.replace("@VERSION@", dojo.__version__), encoding="utf-8")
        sealed = _seal(stage.path, hidden=True)
        digest = write_zip(stage.path, out, executables=GRADESCOPE_SCRIPTS)
    lines = [
        f"dojo export gradescope: wrote {out}",
        "  setup.sh, run_autograder (at the zip's root, mode 0755)",
        _contents(counts),
        f"  seal.json: {len(sealed['files'])} sealed files ({len(hidden)} hidden), {len(sealed['dojo'])} dojo files",
        "  left out: solutions/",
        f"  sha256 {digest}  {out.name}",
        "  upload it under Configure Autograder; Gradescope unpacks it into /autograder/source",
    ]
    if not hidden:
        lines.append(f"  note: the kit has no {seal.HIDDEN}/test_<kata>.py: grading uses the visible tests only")
    return [*lines, *(f"  warning: {note}" for note in notes)]


def export_classroom(kit: Path, out: Path, kit_url: str, kit_sha256: str, *,
                     token_secret: str | None = None, force: bool = False) -> list[str]:
    """``out``/.github/workflows/classroom.yml and ``out``/CLASSROOM.md; what was written."""
    kit, out = Path(kit).resolve(), _absolute(out)
    manifest = _check_kit(kit)
    digest = kit_sha256.strip().lower()
    if not SHA256_RE.match(digest):
        raise ReleaseError(f"--kit-sha256 {kit_sha256!r} is not a sha256 (64 hex digits, as `dojo release` prints)")
    if not URL_RE.match(kit_url):
        raise ReleaseError(f"--kit-url {kit_url!r} is not an http(s) URL this workflow can quote safely "
                           "(no spaces, quotes, backslashes, backticks or $)")
    if token_secret is not None and not SECRET_RE.match(token_secret):
        raise ReleaseError(f"--kit-token-secret {token_secret!r} is not a GitHub secret name (letters, digits, _)")
    if kit_url.startswith("http://"):
        raise ReleaseError("--kit-url must use https: the hash protects the kit, but not the token a private URL sends")
    workflow = out / ".github" / "workflows" / "classroom.yml"
    guide = out / "CLASSROOM.md"
    existing = [p for p in (workflow, guide) if p.exists()]
    if existing and not force:
        raise ReleaseError(f"{existing[0]} exists; pass --force to overwrite it")
    if _inside(out, [kit / name for name in KIT_FOLDERS]):
        raise ReleaseError(f"{out} is inside the kit's {out.relative_to(kit).parts[0]}/ folder")
    max_points = sum(k.points for k in manifest.katas)
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(classroom_workflow(kit_url, digest, token_secret), encoding="utf-8")
    guide.write_text(classroom_guide(kit_url, digest, token_secret, len(manifest.katas), max_points),
                     encoding="utf-8")
    return [
        f"dojo export classroom: wrote {workflow}",
        f"  and {guide}",
        f"  the workflow grades with the kit at {kit_url}",
        f"  pinned to sha256 {digest}",
        "  commit both to the assignment's template repository (see CLASSROOM.md)",
    ]


# --- the kit and where a release may go ----------------------------------------------


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser()))


def _check_kit(kit: Path) -> manifest_mod.Manifest:
    try:
        return manifest_mod.load(kit / "katas.toml")
    except manifest_mod.ManifestError as exc:
        raise ReleaseError(f"the kit's katas.toml is invalid: {exc}") from None


def _inside(path: Path, folders) -> bool:
    real = Path(os.path.realpath(path))
    for folder in folders:
        folder = Path(os.path.realpath(folder))
        if real == folder or folder in real.parents:
            return True
    return False


def _check_out(kit: Path, out: Path, as_zip: bool) -> None:
    """Refuse an OUT that exists and is not empty, or that lies in a folder the kit ships."""
    shipped = [kit / name for name in KIT_FOLDERS] + [Path(dojo.__file__).parent]
    if _inside(out, shipped):
        raise ReleaseError(f"{out} is inside a folder of the kit that releases copy or keep "
                           f"({', '.join(f'{n}/' for n in KIT_FOLDERS)}); write it elsewhere")
    if Path(os.path.realpath(out)) in (Path(os.path.realpath(kit)), *Path(os.path.realpath(kit)).parents):
        raise ReleaseError(f"{out} is the kit itself or a folder that holds it")
    if out.is_symlink() or (out.exists() and not out.is_dir() and not out.is_file()):
        raise ReleaseError(f"{out} exists and is not a regular file or folder")
    if out.is_dir():
        if as_zip:
            raise ReleaseError(f"{out} is a folder; a zip release needs a file path")
        if any(out.iterdir()):
            raise ReleaseError(f"{out} exists and is not empty; give a new or empty folder")
    elif out.exists():
        if not as_zip:
            raise ReleaseError(f"{out} is a file; give a new or empty folder, or a path ending .zip")
        if out.stat().st_size:
            raise ReleaseError(f"{out} exists and is not empty; remove it or give another path")


def _solved_katas(kit: Path, manifest) -> list[str]:
    """Katas whose unsolved module is byte for byte its solution: students would get it."""
    notes = []
    for kata in manifest.katas:
        mine, answer = kit / "katas" / kata.module, kit / "solutions" / kata.module
        if not mine.is_file():
            notes.append(f"katas/{kata.module} is missing from the kit")
        elif answer.is_file() and mine.read_bytes() == answer.read_bytes():
            notes.append(f"katas/{kata.module} is identical to solutions/{kata.module}: it ships solved")
    return notes


def _skipped(name: str) -> bool:
    return name in SKIPPED_NAMES or name.endswith(SKIPPED_SUFFIXES)


def _copy_file(src: Path, dest: Path) -> None:
    if src.is_symlink():
        raise ReleaseError(f"{src} is a symbolic link; a release holds regular files only")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.parent.chmod(0o755)
    shutil.copyfile(src, dest)
    dest.chmod(0o644)


def _copy_tree(src: Path, dest: Path) -> int:
    """Every file under ``src`` but caches and the like; the number copied."""
    count = 0
    for entry in sorted(src.iterdir()):
        if _skipped(entry.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            count += _copy_tree(entry, dest / entry.name)
        else:
            _copy_file(entry, dest / entry.name)
            count += 1
    return count


def _dojo_source(kit: Path) -> Path:
    """The dojo package to ship: the one running, which the seal records. A kit with its
    own dojo/ must hold that same dojo, or every sealed grade would fail."""
    running = Path(dojo.__file__).resolve().parent
    own = kit / "dojo"
    if own.is_dir() and own.resolve() != running:
        if _package_hashes(own) != seal.dojo_files():
            raise ReleaseError(f"the kit's dojo/ differs from the dojo running this command ({running}); "
                               f"run the kit's own: pip install -e {kit}")
    return running


def _package_hashes(folder: Path) -> dict:
    """What ``seal.dojo_files`` records, for a copy of the package at ``folder``."""
    return {
        p.relative_to(folder).as_posix(): seal.sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.suffix in (".py", ".toml") and "__pycache__" not in p.parts
    }


def _fill(kit: Path, dest: Path, folders) -> dict:
    """Copy the kit's files, the named folders and the dojo package into ``dest``."""
    counts = {}
    for name in TOP_FILES:
        if (kit / name).is_file() or (kit / name).is_symlink():
            _copy_file(kit / name, dest / name)
            counts[name] = 1
    for folder in folders:
        if (kit / folder).is_dir():
            counts[f"{folder}/"] = _copy_tree(kit / folder, dest / folder)
    counts["dojo/"] = _copy_tree(_dojo_source(kit), dest / "dojo")
    return counts


def _contents(counts: dict) -> str:
    parts = [f"{name} ({n} files)" if name.endswith("/") else name for name, n in counts.items()]
    return "  " + ", ".join(parts)


def _seal(folder: Path, hidden: bool) -> dict:
    """seal.json for what is in ``folder`` now; it must accept the folder."""
    sealed = seal.write(folder, folder / seal.SEAL_FILE, hidden=hidden)
    problems = seal.check(folder, seal.read(folder / seal.SEAL_FILE))
    if _package_hashes(folder / "dojo") != sealed["dojo"]:
        problems.append("dojo/: the copy shipped differs from the dojo the seal records")
    if problems:  # pragma: no cover - only if a file changed while we copied
        raise ReleaseError("the release does not match its own seal: " + "; ".join(problems[:5]))
    (folder / seal.SEAL_FILE).chmod(0o644)
    return sealed


class _Stage:
    """A scratch folder beside the output, removed unless moved into place."""

    def __init__(self, parent: Path):
        self.parent = parent

    def __enter__(self) -> "_Stage":
        self.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(dir=self.parent, prefix=".dojo-release-"))
        self.path.chmod(0o755)
        return self

    def move_to(self, out: Path) -> None:
        if out.is_dir():
            out.rmdir()  # checked empty
        os.replace(self.path, out)

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


# --- deterministic zips (release --zip and export gradescope) -------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_zip(folder: Path, out: Path, executables=()) -> str:
    """Zip every file under ``folder`` into ``out``, the same bytes for the same files:
    entries sorted by path, dated 1980-01-01 00:00, Unix mode 0755 for the names in
    ``executables`` and 0644 otherwise, no directory entries, deflate level 9.
    Written to a temporary file and renamed into place. Returns the zip's sha256."""
    folder, out = Path(folder), Path(out)
    names = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink()
    )
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            for name in names:
                info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                info.create_system = 3  # Unix: the mode below is read by unzip and Gradescope
                mode = 0o755 if name in executables else 0o644
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, (folder / name).read_bytes(), compresslevel=9)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha256_of(out)


# --- Gradescope -----------------------------------------------------------------------

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image; the zip's
# contents are in /autograder/source. Written by `dojo export gradescope` (dojo @VERSION@).
#
# Python 3.10 or newer with venv (from apt if the image lacks it), then the kit's dojo in
# a virtual environment at /opt/dojo-venv: outside /root and world-readable, so the uid
# dojo's sandbox runs learner code as can start the same interpreter. Last, the installed
# dojo and the kit are checked against seal.json, so a broken build fails here, once,
# rather than on every submission. AUTOGRADER_ROOT and DOJO_VENV move it elsewhere (to
# try it locally; run_autograder's DOJO_PYTHON is then DOJO_VENV/bin/python).
set -euo pipefail
umask 022
SOURCE=${AUTOGRADER_ROOT:-/autograder}/source
VENV=${DOJO_VENV:-/opt/dojo-venv}

python_ok() {
    command -v python3 >/dev/null 2>&1 &&
        python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1
}

make_venv() {
    rm -rf "$VENV"
    python3 -m venv "$VENV"
}

if ! python_ok || ! make_venv; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends python3 python3-venv python3-pip ca-certificates
    if ! python_ok; then
        echo "setup.sh: dojo needs Python 3.10 or newer; this image has $(python3 --version 2>&1)." >&2
        echo "setup.sh: choose an Ubuntu 22.04 (or newer) base image in the autograder settings." >&2
        exit 1
    fi
    make_venv
fi

"$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --disable-pip-version-check "$SOURCE"
chmod -R a+rX "$VENV"

# -I, from /: the installed dojo is checked, never the one in /autograder/source
cd /
if ! "$VENV/bin/python" -I - "$SOURCE" <<'PY'
import sys
from pathlib import Path

from dojo.grading import seal

kit = Path(sys.argv[1])
problems = seal.check(kit, seal.read(kit / seal.SEAL_FILE))
if problems:
    print("setup.sh: the installed dojo or the kit does not match seal.json:", file=sys.stderr)
    print("\n".join("  " + p for p in problems[:20]), file=sys.stderr)
    sys.exit(1)
print("setup.sh: the kit and the installed dojo match seal.json")
PY
then
    echo "setup.sh: the build is not fit to grade. If dojo/grading is missing from the install," >&2
    echo "setup.sh: the kit's pyproject.toml must list every dojo package (dojo, dojo.grading)." >&2
    exit 1
fi
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission, as root, from /autograder. Written by
# `dojo export gradescope` (dojo @VERSION@).
#
# Grades /autograder/submission with the kit in /autograder/source, checked against its
# seal.json, and always leaves /autograder/results/results.json: dojo's, or, when the
# grader itself failed, a score of 0 that says so and why (never a bare error). Always
# exits 0. AUTOGRADER_ROOT and DOJO_PYTHON move it elsewhere (to try it locally).
set -u
AUTOGRADER=${AUTOGRADER_ROOT:-/autograder}
PY=${DOJO_PYTHON:-/opt/dojo-venv/bin/python}
# Seconds after which the grader is stopped, so that a run Gradescope would cut off still
# leaves a results.json: set it a minute below the assignment's autograder timeout.
# 0: no limit of its own.
GRADE_TIMEOUT=${DOJO_GRADE_TIMEOUT:-0}
SOURCE=$AUTOGRADER/source
RESULTS=$AUTOGRADER/results
OUT=$RESULTS/dojo
LOG=$RESULTS/dojo-grader.log
started=$(date +%s)

mkdir -p "$OUT"
rm -f "$OUT/gradescope.json" "$RESULTS/results.json"
limit=()
if [ "$GRADE_TIMEOUT" != 0 ]; then
    limit=(timeout --kill-after=20 "$GRADE_TIMEOUT")
fi
cd "$AUTOGRADER" || exit 0
# -I: nothing from the working directory or PYTHON* variables is imported by the grader
${limit[@]+"${limit[@]}"} "$PY" -I -m dojo --root "$SOURCE" grade "$AUTOGRADER/submission" \
    --out "$OUT" --format gradescope --seal "$SOURCE/seal.json" 2>"$LOG"
status=$?
cat "$LOG" >&2  # the grader's messages, for the instructor (Gradescope keeps stdout/stderr)

if [ "$status" -eq 0 ] && [ -s "$OUT/gradescope.json" ] &&
    cp "$OUT/gradescope.json" "$RESULTS/results.json.tmp" &&
    mv -f "$RESULTS/results.json.tmp" "$RESULTS/results.json"; then
    exit 0
fi

if [ "$status" -eq 0 ]; then
    why="it finished without writing its results"
elif [ "$status" -eq 124 ] && [ "${#limit[@]}" -gt 0 ]; then
    why="it ran longer than $GRADE_TIMEOUT s and was stopped"
else
    why="it exited with status $status"
fi
# The tail of the grader's messages as a JSON string: quotes, backslashes, tabs and
# anything not plain ASCII become spaces; each line ends in \n.
detail=$(tail -n 15 "$LOG" 2>/dev/null | cut -c 1-300 |
    LC_ALL=C tr -c "A-Za-z0-9 \n.,:;/_()=+*#@%<>|!?~^&'-" ' ' |
    LC_ALL=C awk 'BEGIN { ORS = "\\n" } { print }')
elapsed=$(( $(date +%s) - started ))
cat >"$RESULTS/results.json.tmp" <<EOF
{
  "score": 0,
  "execution_time": $elapsed,
  "output": "The grader failed ($why), so this submission was not graded and scores 0 for now. This is not a verdict on your code: your instructor has been told and will regrade it.\n\nThe grader said:\n$detail",
  "output_format": "text",
  "stdout_visibility": "hidden",
  "tests": []
}
EOF
mv -f "$RESULTS/results.json.tmp" "$RESULTS/results.json"
exit 0
"""


# --- GitHub Classroom -----------------------------------------------------------------

# Each step's script, as the workflow runs it (bash); module constants so tests can run
# the very text the workflow holds.
FETCH_SCRIPT = """\
set -euo pipefail
kit="$RUNNER_TEMP/dojo-kit"
zip="$RUNNER_TEMP/dojo-kit.zip"
rm -rf "$kit" "$zip"
auth=()
if [ -n "${DOJO_KIT_TOKEN:-}" ]; then
  auth=(--header "Authorization: Bearer $DOJO_KIT_TOKEN" --header "Accept: application/octet-stream")
fi
curl --fail --silent --show-error --location --retry 3 ${auth[@]+"${auth[@]}"} --output "$zip" "$DOJO_KIT_URL"
if ! echo "$DOJO_KIT_SHA256  $zip" | sha256sum --check --strict; then
  echo "::error::the kit at $DOJO_KIT_URL is not the one this workflow pins (sha256 $DOJO_KIT_SHA256)"
  exit 1
fi
mkdir -p "$kit"
unzip -q "$zip" -d "$kit"
test -f "$kit/katas.toml"
"""

# Run from $RUNNER_TEMP with -I: the student's checkout holds a dojo/ package (and could
# hold a pip/ one); python -m would import those from the working directory.
INSTALL_SCRIPT = """\
set -euo pipefail
cd "$RUNNER_TEMP"
python -I -m pip install --disable-pip-version-check --quiet --editable "$RUNNER_TEMP/dojo-kit"
"""

GRADE_SCRIPT = """\
set -euo pipefail
cd "$RUNNER_TEMP"
out="$RUNNER_TEMP/dojo-results"
rm -rf "$out"
python -I -m dojo --root "$RUNNER_TEMP/dojo-kit" grade "$GITHUB_WORKSPACE" \\
  --out "$out" --format classroom --format terminal
echo "result=$(cat "$out/classroom.txt")" >> "$GITHUB_OUTPUT"
"""


def _block(script: str, indent: int) -> str:
    pad = " " * indent
    return "\n".join(pad + line if line else "" for line in script.rstrip("\n").split("\n"))


def classroom_workflow(kit_url: str, kit_sha256: str, token_secret: str | None = None) -> str:
    """The GitHub Actions workflow: Classroom's own shape (workflow "Autograding Tests",
    job run-autograding-tests, the reporter with one runner, ``dojo``)."""
    token = (f"      env:\n        DOJO_KIT_TOKEN: ${{{{ secrets.{token_secret} }}}}\n" if token_secret else "")
    return f"""\
# Written by `dojo export classroom` (dojo {dojo.__version__}); see CLASSROOM.md.
# Grades this repository with the instructor's kit, downloaded and checked against the
# sha256 pinned below: the tests, conftest and settings in this repository are not used;
# `dojo grade` takes only the kata modules (katas/<kata>.py) from it.
name: Autograding Tests
'on':
- push
- repository_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 30
    env:
      DOJO_KIT_URL: '{kit_url}'
      DOJO_KIT_SHA256: '{kit_sha256}'
    steps:
    - name: Checkout code
      uses: actions/checkout@v4
    - name: Set up Python
      uses: actions/setup-python@v5
      with:
        python-version: '3.11'
    - name: Fetch the kit (sha256 pinned)
{token}      run: |
{_block(FETCH_SCRIPT, 8)}
    - name: Install the kit's dojo
      run: |
{_block(INSTALL_SCRIPT, 8)}
    - name: Grade with dojo
      id: dojo
      run: |
{_block(GRADE_SCRIPT, 8)}
    - name: Autograding Reporter
      uses: classroom-resources/autograding-grading-reporter@v1
      env:
        DOJO_RESULTS: "${{{{ steps.dojo.outputs.result }}}}"
      with:
        runners: dojo
"""


def classroom_guide(kit_url: str, kit_sha256: str, token_secret: str | None, katas: int, points: int) -> str:
    private = (
        f"The kit is fetched with the secret `{token_secret}` as a Bearer token (a private URL). "
        "Every workflow in a student's repository can read that secret, and a student can edit "
        "the workflow to print or send it elsewhere: a token keeps the kit from strangers, not "
        "from a determined student."
        if token_secret else
        "The kit URL is fetched without credentials: anyone, students included, can download it. "
        "Publish a `dojo release` zip there (no solutions, no hidden tests), never the Gradescope "
        "autograder zip, which holds `hidden/`."
    )
    hidden = textwrap.fill(
        f"Hidden tests are only as secret as the kit URL. {private} Keeping hidden tests for the "
        "batch grade on your machine (or for Gradescope) is the reliable way.",
        width=88, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False,
    )
    return f"""\
# GitHub Classroom autograding with dojo

For instructors. Written by `dojo export classroom` (dojo {dojo.__version__}).

`.github/workflows/classroom.yml` grades every push to a student's repository:

1. checks out the student's repository and sets up Python 3.11;
2. downloads the kit zip from `{kit_url}`
   and checks it against the pinned sha256 `{kit_sha256}`
   (`sha256sum --check`): a kit that differs, by a single byte, fails the job;
3. unpacks it outside the student's checkout (`$RUNNER_TEMP/dojo-kit`) and installs the
   kit's own dojo from it;
4. runs `dojo grade` on the checkout: the kit's `seal.json` is checked against the kit and
   the installed dojo, then each kata module (`katas/<kata>.py`) is graded in a fresh
   workspace built from the kit;
5. hands the result to `classroom-resources/autograding-grading-reporter` (runner `dojo`),
   which prints it and reports the points ({katas} katas, {points} points) to Classroom.

## Setting it up

1. `dojo release dist/kit.zip` prints the zip's sha256. Publish the zip, for example as
   a release asset of the template repository.
2. `dojo release template/` makes the same bundle as a folder: the assignment's template
   repository. `dojo export classroom template/ --kit-url URL --kit-sha256 HASH` adds
   this workflow. Commit and push it, and create the assignment from that template.
3. After changing the kit, release again: the hash changes, so export the workflow again.
   Repositories already accepted keep the old workflow (and the old kit) until updated.

## What this protects

- The tests, `conftest.py`, settings and `dojo/` in the student's repository never grade:
  the kit is fetched by hash and `dojo grade` takes only the kata modules from the
  checkout. A student who edits a test, a fixture or the plugin changes nothing.
- The kit cannot change under the workflow: a different zip at the URL fails the hash,
  and a kit whose files differ from its seal fails `dojo grade`.
- The grader runs outside the checkout (`python -I`, from `$RUNNER_TEMP`), so a `dojo/`
  or `pip/` folder in the student's repository is never imported in its place.

## What it does not protect

- The workflow file itself lives in the student's repository, and the student can edit
  it: remove the hash check, skip the grading, or report any points. GitHub Classroom
  shows whatever the last run reported. **Treat Classroom's points as advisory.** For
  marks that count, collect the repositories and grade them on your own machine:
  `dojo grade --batch FOLDER --out DIR` (with hidden tests, if your kit has them).
{hidden}
- Learner code runs on GitHub's runner with the limits dojo can set there (see "Limits
  in force" in the log); it is not the sandbox of a root grading machine.
"""
