from __future__ import annotations

import pytest

from scones.workflow.errors import DefinitionError
from scones.workflow.templates import placeholders, render


def test_whole_string_placeholders_take_the_values_type():
    assert render({"n": "${N}", "on": "${On}"}, {"N": 10, "On": True}) == {"n": 10, "on": True}


def test_embedded_placeholders_are_text_and_quotes_cannot_break_the_json():
    rendered = render({"Resource": "arn:${P}:s3:::${B}/*"}, {"P": "aws", "B": 'a"b'})
    assert rendered == {"Resource": 'arn:aws:s3:::a"b/*'}


def test_keys_lists_and_nesting():
    document = {"${K}": [{"x": "${V}"}, 3, None]}
    assert placeholders(document) == {"K", "V"}
    assert render(document, {"K": "key", "V": "v"}) == {"key": [{"x": "v"}, 3, None]}


def test_a_missing_value_is_named_with_what_was_given():
    with pytest.raises(DefinitionError, match=r"policy p has placeholders with no value: B \(given: A\)"):
        render({"a": "${A}", "b": "${B}"}, {"A": 1}, what="policy p")


def test_a_value_that_is_a_placeholder_is_refused():
    with pytest.raises(DefinitionError, match="still has placeholders"):
        render({"a": "${A}"}, {"A": "${B}"})


def test_dollar_signs_that_are_not_placeholders_are_left_alone():
    assert render({"Variable": "$.s3_key", "Msg.$": "$$.Execution.Id"}, {}) == {
        "Variable": "$.s3_key",
        "Msg.$": "$$.Execution.Id",
    }
