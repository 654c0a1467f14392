"""The minimum-versions CI leg pins every declared lower bound."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_lowest_versions_pins_each_declared_lower_bound():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = ["gnn", "distributed"]
    out = subprocess.run([sys.executable, str(ROOT / ".ci" / "lowest_versions.py"), *extras],
                         capture_output=True, text=True, check=True).stdout
    pins = dict(line.split("==") for line in out.splitlines())
    declared = project["dependencies"] + [r for e in extras
                                          for r in project["optional-dependencies"][e]]
    assert len(pins) == len(declared)
    for requirement in declared:  # e.g. "dask[distributed]>=2024.1", "torch>=2.13,<=2.14.1"
        name, bounds = requirement.split(">=")
        assert pins[name.split("[")[0].lower()] == bounds.split(",")[0], requirement
