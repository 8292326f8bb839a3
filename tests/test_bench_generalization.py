"""The generalization bench's own pieces that need no index: the floors it gates on and the
question-by-question comparison with an earlier run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.generalization import changed, floors, main, question_sets


def test_every_development_text_has_floors() -> None:
    bounds = floors()
    assert {s.name for s in question_sets()} == set(bounds)
    assert all(b["exact_quotes"] == 1.0 for b in bounds.values())


def test_changed_lists_the_questions_turned_right_and_wrong() -> None:
    before = {"speech": [{"id": "SP10", "question": "In which city?", "answer": "No."}]}
    after = {
        "speech": [{"id": "SP15", "question": "How much money?", "answer": "No number."}],
        "drama": [],
    }
    assert changed(before, after) == [
        "right now  speech SP10: In which city?",
        "wrong now  speech SP15: How much money? -> No number.",
    ]
    assert changed(after, after) == []


def test_against_a_file_that_is_not_a_results_file_fails_before_the_run(tmp_path: Path) -> None:
    bad = tmp_path / "before.json"
    bad.write_text(json.dumps({"held_out": {}}), encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        main(["--against", str(bad)])
    assert stopped.value.code == 2
