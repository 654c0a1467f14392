"""The README's commands are the ones CI runs, its Python snippets run as printed, and its
headline table is the report's."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _readme_commands():
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", README, re.S)
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


def test_the_two_set_ups_use_separate_environments():
    environments = [re.search(r"python3 -m venv (\S+)", " ".join(block)).group(1)
                    for block in _readme_commands()]
    assert len(set(environments)) == 2


SNIPPETS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_the_readme_has_its_snippets():
    assert len(SNIPPETS) >= 5


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.splitlines()[-1][:40] for s in SNIPPETS])
def test_every_python_snippet_runs_as_printed(snippet, tmp_path, monkeypatch):
    # A snippet of an optional extra (e.g. onnx) is skipped where that extra is not installed
    # (CI's lowest-versions leg), as its tests are.
    tree = ast.parse(snippet)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for name in names:
                pytest.importorskip(name.split(".")[0])
    monkeypatch.chdir(tmp_path)  # a snippet may write a file
    exec(compile(tree, "README.md", "exec"), {"__name__": "__readme__"})


def test_the_headline_table_is_the_modern_reports():
    report = (ROOT / "benchmarks" / "results" / "modern" / "report.md").read_text()
    after = report.split("### QCLMix against the best modern peer (macro-F1)")[1]
    table = "\n".join(after.split("\n\n| ")[1:2])  # the section's first table
    table = "| " + table.split("\n\n")[0]
    section = README.split("## Results: QCLMix against today's peers")[1].split("\n## ")[0]
    assert table and table in section


def test_the_benchmark_commands_name_their_extras():
    bench = README.split("## Benchmark")[1].split("\n## ")[0]
    assert "--suite paper" in bench and "gnn extra" in bench
    assert "--suite modern" in bench and "peers extra" in bench
    assert "--dry-run" in bench
