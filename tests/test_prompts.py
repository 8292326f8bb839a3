"""Prompt files: loaded from a folder, checked for their variables, rendered strictly."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant import errors
from assistant.config import Settings
from assistant.errors import AssistantError, ConfigError, PromptError
from assistant.prompts import REFUSAL_FILE, TEMPLATES, Prompts, bundled_prompts_dir

from .conftest import ROOT

PASSAGES = [
    {"n": 1, "text": "Realism is about the pursuit of national interest.", "doc_id": "essay", "paragraph": 2,
     "title": "Values"},
    {"n": 2, "text": "These terms are misleading.", "doc_id": "essay", "paragraph": 3, "title": "Values"},
]  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A user's prompt folder, starting as a copy of the bundled one."""
    target = tmp_path / "my-prompts"
    shutil.copytree(bundled_prompts_dir(), target)
    return target


def test_bundled_prompts_are_the_top_level_folder_and_load() -> None:
    assert bundled_prompts_dir() == ROOT / "prompts"
    assert Settings().prompts_dir.resolve() == (ROOT / "prompts").resolve()
    prompts = Prompts.load()
    assert prompts.refusal == "The passages do not answer this question."
    assert set(prompts.sources) == {*TEMPLATES, REFUSAL_FILE}


def test_answer_prompt_numbers_the_passages_and_states_the_rules() -> None:
    prompts = Prompts.load(ROOT / "prompts")
    text = prompts.render(
        "answer.j2",
        question="What is realism?",
        original_question="What is realism?",
        passages=PASSAGES,
        title="Values",
        refusal=prompts.refusal,
        max_sentences=4,
    )
    assert "[1] Realism is about the pursuit of national interest." in text
    assert "[2] These terms are misleading." in text
    assert "Question: What is realism?" in text
    assert "between 1 and 2" in text
    assert prompts.refusal in text
    assert "{{" not in text and "{%" not in text


def test_system_and_rewrite_prompts_render() -> None:
    prompts = Prompts.load()
    assert "“Values”" in prompts.render("system.j2", title="Values")
    history = [
        {"role": "user", "content": "What is human security?"},
        {"role": "assistant", "content": "It is."},
    ]
    text = prompts.render("rewrite.j2", question="Why?", history=history, title="Values")
    assert "User: What is human security?" in text and "Assistant: It is." in text
    assert text.rstrip().endswith("on one line.")


def test_a_variable_left_out_at_render_time_is_named() -> None:
    prompts = Prompts.load()
    with pytest.raises(PromptError, match="refusal"):
        prompts.render("answer.j2", question="q", passages=PASSAGES, title="t", max_sentences=3)


def test_an_unknown_variable_at_render_time_is_named() -> None:
    with pytest.raises(PromptError, match="temperature"):
        Prompts.load().render("system.j2", title="t", temperature=1)


def test_an_unknown_prompt_name_is_refused() -> None:
    with pytest.raises(PromptError, match=r"no prompt named 'summary\.j2'"):
        Prompts.load().render("summary.j2")


def test_a_user_folder_is_used(folder: Path) -> None:
    (folder / "system.j2").write_text("Answer about {{ title }} like a pirate.", encoding="utf-8")
    (folder / REFUSAL_FILE).write_text("Arr, the passages be silent.\n", encoding="utf-8")
    prompts = Prompts.load(folder)
    assert prompts.render("system.j2", title="Values") == "Answer about Values like a pirate."
    assert prompts.refusal == "Arr, the passages be silent."
    assert prompts.sources["system.j2"] == folder / "system.j2"


def test_settings_point_at_a_user_folder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_PROMPTS_DIR", str(folder))
    assert Prompts.load(Settings.load().prompts_dir).sources["answer.j2"] == folder / "answer.j2"


def test_a_missing_file_is_taken_from_the_bundled_prompts(folder: Path) -> None:
    (folder / "rewrite.j2").unlink()
    prompts = Prompts.load(folder)
    assert prompts.sources["rewrite.j2"] == bundled_prompts_dir() / "rewrite.j2"
    assert prompts.sources["answer.j2"] == folder / "answer.j2"


def test_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="does not exist; set ASSISTANT_PROMPTS_DIR"):
        Prompts.load(tmp_path / "nowhere")


def test_an_unknown_variable_in_a_template_is_named_at_load_time(folder: Path) -> None:
    (folder / "answer.j2").write_text(
        "{% for p in passages %}[{{ p.n }}] {{ p.text }}\n{% endfor %}{{ question }} {{ qestion_typo }}",
        encoding="utf-8",
    )
    with pytest.raises(
        PromptError, match=r"answer\.j2 uses unknown variable\(s\) qestion_typo; it may use: "
    ):
        Prompts.load(folder)


def test_a_required_variable_left_out_of_a_template_is_named_at_load_time(folder: Path) -> None:
    (folder / "answer.j2").write_text("Answer {{ question }} from what you know.", encoding="utf-8")
    with pytest.raises(PromptError, match=r"answer\.j2 must use the variable\(s\) passages"):
        Prompts.load(folder)


def test_a_syntax_error_names_the_line(folder: Path) -> None:
    (folder / "rewrite.j2").write_text(
        "{{ question }}\n{{ history }}\n{% for t in history %}\n", encoding="utf-8"
    )
    with pytest.raises(PromptError, match=r"rewrite\.j2, line \d"):
        Prompts.load(folder)


def test_an_empty_refusal_is_an_error(folder: Path) -> None:
    (folder / REFUSAL_FILE).write_text("  \n", encoding="utf-8")
    with pytest.raises(PromptError, match="is empty"):
        Prompts.load(folder)


def test_a_prompt_error_is_a_config_error_of_the_one_hierarchy() -> None:
    assert issubclass(PromptError, ConfigError) and issubclass(PromptError, AssistantError)
    assert PromptError.__module__ == "assistant.errors" and "PromptError" in errors.__all__


def test_the_readme_documents_every_file_and_variable() -> None:
    readme = (ROOT / "prompts" / "README.md").read_text(encoding="utf-8")
    for name, spec in TEMPLATES.items():
        assert f"`{name}`" in readme
        for variable in spec.allowed:
            assert re.search(rf"`{variable}`", readme), variable
        for variable in spec.required:
            assert f"**`{variable}`**" in readme, variable
    assert f"`{REFUSAL_FILE}`" in readme
