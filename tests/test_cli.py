"""The CLI as a user runs it: a real subprocess, real exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def run(*args: str, index: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index)}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ask_json_prints_the_contract(essay_index: Path) -> None:
    done = run("ask", "What is defensive deterrence?", "--json", index=essay_index)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["question"] == "What is defensive deterrence?" and data["citations"]


def test_ask_with_history_flags(essay_index: Path) -> None:
    done = run(
        "ask",
        "What about Afghanistan?",
        "--json",
        "--user",
        "What does the author say about Biden's policy towards Ukraine?",
        "--assistant",
        "On the other hand, the policy towards Ukraine has been exemplary. [1]",
        index=essay_index,
    )
    assert done.returncode == 0, done.stderr
    assert "Afghanistan" in json.loads(done.stdout)["standalone_question"]


def test_plain_ask_lists_numbered_sources(essay_index: Path) -> None:
    done = run("ask", "What is defensive deterrence?", index=essay_index)
    assert done.returncode == 0
    assert "Sources:" in done.stdout and "[1] Values In Foreign Policy, paragraph 7" in done.stdout
    assert "may not answer" not in done.stdout


def test_plain_ask_says_when_the_quotes_may_not_answer(essay_index: Path) -> None:
    done = run("ask", "Which county does the author live in?", index=essay_index)
    assert done.returncode == 0
    answer, rest = done.stdout.split("\n\nThe quoted text never mentions “county”", 1)
    assert "[1]" in answer and "may not answer exactly this question.\n\nSources:" in rest


def test_errors_are_one_line_with_exit_code_2(essay_index: Path, tmp_path: Path) -> None:
    empty = run("ask", "   ", index=essay_index)
    assert empty.returncode == 2 and empty.stderr.strip().startswith("Error: The question is empty")
    assert len(empty.stderr.strip().splitlines()) == 1

    huge = run("ask", "x" * 100_000, index=essay_index)
    assert huge.returncode == 2 and "limit is 2,000" in huge.stderr

    (tmp_path / "bad.txt").write_bytes("caf\xe9".encode("latin-1"))
    bad = run("ingest", str(tmp_path), index=tmp_path / "idx")
    assert bad.returncode == 1 and "Skipped:" in bad.stderr and "bad.txt is not UTF-8" in bad.stderr

    missing = run("ask", "What?", "--corpus", str(tmp_path / "none"), index=tmp_path / "idx2")
    assert missing.returncode == 2 and "does not exist" in missing.stderr

    bad_setting = run("ask", "What?", "--collection", "x", index=tmp_path / "idx3")
    assert bad_setting.returncode == 2 and "collection" in bad_setting.stderr


def test_ingest_reports_what_it_did(tmp_path: Path) -> None:
    first = run("ingest", index=tmp_path / "idx")
    assert first.returncode == 0, first.stderr
    assert "1 added" in first.stdout
    again = run("ingest", index=tmp_path / "idx")
    assert "1 unchanged" in again.stdout
