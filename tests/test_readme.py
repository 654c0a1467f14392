"""The README's commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [[line for line in block.splitlines() if line.strip()] for block in blocks[:2]]


def test_ci_runs_exactly_the_readme_test_command():
    _, test_command = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    section = ci.split("# --- the README's test command")[1].split("# --- end")[0]
    ci_lines = [line for line in section.splitlines()[1:] if line.strip()]
    # The README creates and activates the environment itself; CI did that above.
    assert test_command[-len(ci_lines):] == ci_lines


def test_the_first_command_installs_and_runs_the_quick_benchmark():
    main_job, _ = _readme_commands()
    assert any(line.startswith("pip install torch==2.13.0") for line in main_job)
    assert any("qclmix-bench run --suite quick" in line for line in main_job)
