"""Every regenerate command of the README and docs/ re-runs nothing on the committed stores.

Each ``qclmix-bench run`` line that writes to a store under ``benchmarks/results`` is run with
``--dry-run`` (which only reads the store): no job may be stored under other settings (a re-run)
or as a failure to retry. Only the `modern` and `dev-wide` stores, whose runs are documented as
unfinished, may list jobs never computed.
"""

import os
import re
import shlex
from pathlib import Path

import pytest

from qclmix_sklearn.bench.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _commands():
    found = []
    for page in PAGES:
        for block in re.findall(r"```\n(.*?)```", page.read_text(), re.S):
            for line in block.splitlines():
                if line.startswith("qclmix-bench run") and "--db benchmarks/results/" in line:
                    found.append(line.split("#")[0].strip())
    return found


COMMANDS = _commands()
#: Suites whose committed store the pages document as unfinished.
UNFINISHED = ("modern", "dev-wide")


def test_the_pages_have_their_regenerate_commands():
    suites = {re.search(r"--suite[- ](\S+)", command).group(1) for command in COMMANDS}
    assert {"paper", "ablation", "dev", "beyond", "modern"} <= suites
    assert any("screen_suite.py" in command for command in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.split("--db ")[1].split()[0])
def test_a_regenerate_command_reruns_nothing_on_the_committed_store(command, capsys,
                                                                    monkeypatch):
    monkeypatch.chdir(ROOT)
    argv = shlex.split(command.replace("../shared/datasets", os.environ["QCLMIX_DATA"]))[1:]
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    summary = out.splitlines()[-1]
    stored = int(re.search(r"(\d+) already stored", summary).group(1))
    assert stored > 0, summary  # the datasets were found and the store read
    assert ": re-run:" not in out and ": retry:" not in out, out[:2000]
    if not any(f"--suite {suite} " in command for suite in UNFINISHED):
        assert summary.startswith("dry run: 0 job(s) to run or store (nothing)"), summary
