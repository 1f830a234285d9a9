"""The GitHub Actions workflows: valid against the published workflow schema, and the
learners' workflow runs every system and Python the kit promises.

None of these workflows can run on this machine (no access to GitHub). What can be
checked here is that GitHub would accept them and that their matrix says what we mean.
The schema is SchemaStore's github-workflow.json as vendored by check-jsonschema (a dev
extra); its YAML loader (ruamel.yaml) and validator (jsonschema) come with it.
"""

from __future__ import annotations

import importlib.resources
import itertools
import json
import re
from pathlib import Path

import pytest

try:
    import check_jsonschema.builtin_schemas.vendor as vendored_schemas  # it brings the rest
    import jsonschema
    import jsonschema.exceptions
    import jsonschema.validators
    from ruamel.yaml import YAML
except ImportError as exc:  # pragma: no cover - only without the dev extras
    pytest.skip(
        f"check-jsonschema is not installed (pip install -e '.[dev]'): {exc}", allow_module_level=True
    )

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
LEARNERS = WORKFLOWS / "learners.yml"

SYSTEMS = {"ubuntu-latest", "macos-latest", "windows-latest"}
PYTHONS = {"3.10", "3.11", "3.12", "3.13", "3.14"}
FREE_THREADED = {"3.13t", "3.14t"}


def workflow_schema() -> dict:
    schema = importlib.resources.files(vendored_schemas) / "github-workflows.json"
    return json.loads(schema.read_text(encoding="utf-8"))


def load_yaml(path: Path):
    # YAML 1.2, as GitHub reads it: `on:` stays the string "on", not True (YAML 1.1).
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def workflow_files() -> list[Path]:
    return sorted(p for p in WORKFLOWS.glob("*") if p.suffix in (".yml", ".yaml"))


def where(error: jsonschema.exceptions.ValidationError) -> str:
    """The place in the workflow, as jobs/learners/steps/2/with."""
    return "/".join(str(part) for part in error.absolute_path) or "(the top level)"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_every_workflow_is_valid_against_the_published_github_workflow_schema(path):
    schema = workflow_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = list(validator_class(schema).iter_errors(load_yaml(path)))
    # A oneOf/anyOf failure says only "is not valid under any of the given schemas";
    # best_match walks into its context for the error that names the real cause.
    problems = sorted(
        f"  at {where(best)}: {best.message}"
        for best in (jsonschema.exceptions.best_match([error]) for error in errors)
    )
    assert not problems, f"{path.relative_to(ROOT)} is not a valid GitHub workflow:\n" + "\n".join(problems)


# --- the learners' matrix ---------------------------------------------------------------


def matrix_jobs(strategy_matrix: dict) -> list[dict]:
    """The jobs a matrix expands to, by GitHub's rules: the product of the axes, minus
    `exclude`; then each `include` entry is merged into every job whose original values it
    does not change, and becomes a job of its own if there is none."""
    axes = {k: v for k, v in strategy_matrix.items() if k not in ("include", "exclude")}
    jobs = [dict(zip(axes, values)) for values in itertools.product(*axes.values())] if axes else []
    for excluded in strategy_matrix.get("exclude") or []:
        jobs = [j for j in jobs if any(j.get(k) != v for k, v in excluded.items())]
    originals = [dict(j) for j in jobs]
    for extra in strategy_matrix.get("include") or []:
        fits = [
            i for i, original in enumerate(originals)
            if all(original.get(k, v) == v for k, v in extra.items() if k in axes)
        ]
        for i in fits:
            jobs[i].update(extra)
        if not fits:
            jobs.append(dict(extra))
    return jobs


def resolve(value, job: dict):
    """`${{ matrix.x }}` in a job's `runs-on` or a step input, for one matrix job."""
    if not isinstance(value, str):
        return value
    whole = re.fullmatch(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}", value)
    return job.get(whole.group(1)) if whole else value


def learner_runs() -> list[tuple[str, str, str]]:
    """(workflow job, system, Python) for every job the learners' workflow starts."""
    workflow = load_yaml(LEARNERS)
    runs = []
    for name, spec in workflow["jobs"].items():
        setups = [s for s in spec["steps"] if str(s.get("uses", "")).startswith("actions/setup-python@")]
        assert len(setups) == 1, f"{LEARNERS.name}: job {name} should set up Python exactly once"
        matrix = (spec.get("strategy") or {}).get("matrix") or {}
        for job in matrix_jobs(matrix) if matrix else [{}]:
            system = resolve(spec["runs-on"], job)
            python = resolve(setups[0]["with"]["python-version"], job)
            assert isinstance(python, str) and len(python.split()) == 1, (
                f"{LEARNERS.name}: job {name} {job} sets up {python!r}; one Python per job"
            )
            runs.append((name, system, python))
    return runs


def test_the_learners_workflow_runs_every_system_on_every_python_and_free_threaded_builds_in_jobs_of_their_own():
    runs = learner_runs()  # also: exactly one Python per job
    pairs = [(system, python) for _, system, python in runs]
    wanted = set(itertools.product(SYSTEMS, PYTHONS | FREE_THREADED))
    assert set(pairs) == wanted, (
        f"{LEARNERS.name}: missing {sorted(wanted - set(pairs))}, unexpected {sorted(set(pairs) - wanted)}"
    )
    doubles = sorted({p for p in pairs if pairs.count(p) > 1})
    assert not doubles, f"{LEARNERS.name}: these run more than once: {doubles}"
    # Windows: each free-threaded build is a job of its own, never in a job that also
    # installs a normal build (one Python per job, each pair once: so they are apart).
    windows = sorted(python for _, system, python in runs if system == "windows-latest")
    assert windows == sorted(PYTHONS | FREE_THREADED), f"{LEARNERS.name}: the Windows jobs set up {windows}"
