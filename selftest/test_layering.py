"""The test-side toolkit (what tests hand to learner code) stands on the standard library
alone. A grading host imports it beside the learner's kata, so anything it pulls in is
something learner code can reach: never the plugin, the judge's half of hosting, the
grader, the runner, the loop, nor a third-party package."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import dojo.toolkit

ROOT = Path(__file__).resolve().parent.parent
TOOLKIT = ["dojo.testing", "dojo.system"] + [
    f"dojo.toolkit.{m.name}" for m in pkgutil.iter_modules(dojo.toolkit.__path__)
]
ALLOWED = {"dojo", "dojo.testing", "dojo.toolkit", "dojo.system"}  # dojo.system: the platform layer

PROBE = """
import json, sys
before = set(sys.modules)
import {module}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


@pytest.mark.parametrize("module", TOOLKIT)
def test_a_toolkit_module_imports_only_the_standard_library_and_the_toolkit(module):
    import json

    out = subprocess.run([sys.executable, "-I", "-c", PROBE.format(module=module)], cwd=ROOT,
                         capture_output=True, text=True, check=True, env={"PYTHONPATH": str(ROOT)})
    loaded = json.loads(out.stdout)
    ours = [name for name in loaded if name.split(".")[0] == "dojo"
            and name not in ALLOWED and not name.startswith("dojo.toolkit.")]
    assert not ours, f"{module} pulls in {ours}: learner code in a grading host could reach them"
    foreign = [name for name in loaded if name.split(".")[0] not in sys.stdlib_module_names
               and name.split(".")[0] != "dojo" and not name.startswith("__")]  # __mp_main__: an alias
    assert not foreign, f"{module} pulls in {foreign}, which are not the standard library"
