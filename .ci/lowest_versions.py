"""Print pip constraints that pin every declared dependency to its lower bound.

The lower bounds are read from pyproject.toml (``name>=X`` becomes
``name==X``), from the runtime dependencies and the extras named on the
command line, so that the minimum-versions CI leg tests exactly what the
project declares (as scikit-learn's CI tests its minimum dependencies).

    python .ci/lowest_versions.py test > lowest.txt
    pip install -c lowest.txt -e ".[test]"
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
requirements = list(project["dependencies"])
for extra in sys.argv[1:]:
    requirements += project["optional-dependencies"][extra]
pins = {}
for requirement in requirements:
    # name, optional [extras], then the lower bound among the comma-separated specifiers
    match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*(.*)", requirement)
    name, specifiers = match.group(1).lower(), match.group(2)
    lower = re.search(r">=\s*([0-9][^,;\s]*)", specifiers)
    if lower:
        pins[name] = lower.group(1)
print("\n".join(f"{name}=={version}" for name, version in sorted(pins.items())))
