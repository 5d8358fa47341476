"""Parse each state machine definition and each JSONPath once, not on every execution.

moto's interpreter (LocalStack's) re-parses the whole definition with its ANTLR grammar,
in pure Python, at the start of every execution
(``ExecutionWorker._get_evaluation_entrypoint``), and builds a new jsonpath-ng parser
(a yacc table) for every JSONPath it evaluates (``json_path.extract_json``,
``ResultPath``). For a three-Lambda definition that was half of the emulator's CPU per
execution. Both results are immutable in use: the interpreter keeps execution state in
each execution's ``Environment`` (a component's ``heap_key`` indexes that environment's
heap), and already shares one parsed Map iterator among that Map's concurrent iterations;
a parsed JSONPath is only read by ``find`` / ``update_or_create``. So one parse per
distinct definition or path string serves every execution.
"""

from __future__ import annotations

import functools
from typing import Any

DEFINITIONS_KEPT = 128
PATHS_KEPT = 4096


def install() -> None:
    """Cache the interpreter's definition and JSONPath parsing (``LocalAWS`` calls this once)."""
    import jsonpath_ng
    import jsonpath_ng.ext
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    # Each module calls the ``parse`` it imported by name: the plain and the extended grammar.
    json_path.parse = functools.lru_cache(maxsize=PATHS_KEPT)(jsonpath_ng.ext.parse)
    result_path.parse = functools.lru_cache(maxsize=PATHS_KEPT)(jsonpath_ng.parse)

    @functools.lru_cache(maxsize=DEFINITIONS_KEPT)
    def parse_definition(definition: str) -> Any:
        return AmazonStateLanguageParser.parse(definition)[0]

    def _get_evaluation_entrypoint(self: ExecutionWorker) -> Any:
        return parse_definition(self._evaluation_details.state_machine_details.definition)

    ExecutionWorker._get_evaluation_entrypoint = _get_evaluation_entrypoint  # type: ignore[method-assign]
