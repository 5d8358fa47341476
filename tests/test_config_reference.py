from __future__ import annotations

from dataclasses import fields

from scones.config_reference import COMMAND, DEFAULT_OUTPUT, render
from scones.settings import Settings, WorkflowSettings


def test_the_checked_in_reference_is_up_to_date():
    assert DEFAULT_OUTPUT.read_text(encoding="utf-8") == render(), (
        f"docs/configuration.md is out of date: run `{COMMAND}`"
    )


def test_every_setting_and_its_variables_are_listed():
    text = render()
    for f in fields(Settings):
        if f.name != "workflow":
            assert f"| `{f.name}` | `SCONES_{f.name.upper()}` | `scones_{f.name}` |" in text
    for f in fields(WorkflowSettings):
        variable = "(none: environment only)" if f.name == "source_dir" else f"`scones_workflow_{f.name}`"
        assert f"| `{f.name}` | `SCONES_WORKFLOW_{f.name.upper()}` | {variable} |" in text


def test_defaults_that_depend_on_the_machine_are_not_written_out():
    text = render()
    assert "~/.cache/scones" in text and "the project's root" in text
    assert str(DEFAULT_OUTPUT.parents[1]) not in text, "an absolute path of this checkout leaked into the reference"
