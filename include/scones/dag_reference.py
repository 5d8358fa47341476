"""docs/dags.md, written from the DAG files themselves: their ``doc_md`` and their Params.

The DAG files are the one home of what each DAG does and what its trigger form asks; the
Airflow UI shows the same text. This module renders them as one Markdown page so the
repository's docs cannot drift from the DAGs (``tests/test_docs_reference.py`` fails when the
page is out of date). Regenerate with::

    .venv/bin/python -m scones.dag_reference          # writes docs/dags.md
    .venv/bin/python -m scones.dag_reference --check  # exit 1 if it is out of date

The DAGs are parsed in a child process with no ``SCONES_*`` variables and a throwaway
``AIRFLOW_HOME``, so the defaults shown are the shipped ones whatever this shell has set.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from scones.localrun.airflow_home import DAGS_FOLDER

DOC_PATH = DAGS_FOLDER.parent / "docs" / "dags.md"

# Runs in the child: prints what the page needs as JSON.
_COLLECT = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
if bag.import_errors:
    sys.exit("DAG import errors: " + json.dumps(bag.import_errors))
out = []
for dag_id in sorted(bag.dags):
    dag = bag.dags[dag_id]
    params = [
        {"name": name, "default": param.value if param.has_value else None, "schema": param.schema,
         "description": param.description}
        for name, param in dag.params.items()
    ]
    out.append({"dag_id": dag_id, "doc_md": dag.doc_md or "", "schedule": getattr(dag.timetable, "description", ""),
                "description": dag.description, "params": params})
print(json.dumps(out))
"""

_SCHEMA_WORDS = ("minimum", "maximum", "exclusiveMinimum", "minItems", "maxItems", "pattern", "enum", "format")


def collect() -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCONES_", "AIRFLOW_"))}
    with tempfile.TemporaryDirectory(prefix="scones-docs-airflow-") as home:
        env.update(AIRFLOW_HOME=home, AIRFLOW__CORE__LOAD_EXAMPLES="False")
        done = subprocess.run(
            [sys.executable, "-c", _COLLECT, str(DAGS_FOLDER)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"parsing the DAGs failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(value) -> str:
    if value is None:
        return "empty"
    return f"`{json.dumps(value)}`" if not isinstance(value, str) else f"`{value}`"


def _allowed(schema: dict) -> str:
    words = []
    kind = schema.get("type")
    if kind:
        words.append(" or ".join(kind) if isinstance(kind, list) else kind)
    words += [f"{key} {json.dumps(schema[key])}" for key in _SCHEMA_WORDS if key in schema]
    return ", ".join(words)


def render(dags: list[dict]) -> str:
    lines = [
        "# DAGs",
        "",
        "<!-- Written by `python -m scones.dag_reference` from the DAG files; do not edit. -->",
        "",
        "Each DAG's text is its `doc_md` (also on its page in the Airflow UI); each table is its",
        "trigger form. Defaults are the shipped ones: the `SCONES_*` settings change them",
        "([configuration](configuration.md)).",
        "",
    ]
    for dag in dags:
        schedule = f"{dag['schedule']} (UTC)" if dag["schedule"] else "none: triggered from the UI or the REST API"
        lines += [f"## `{dag['dag_id']}`", "", f"Schedule: {schedule}.", ""]
        lines += [dag["doc_md"].strip(), ""]
        if dag["params"]:
            lines += ["| param | form field | default | allowed | meaning |", "|---|---|---|---|---|"]
            for p in dag["params"]:
                schema = p["schema"]
                lines.append(
                    f"| `{p['name']}` | {_cell(schema.get('title', ''))} | {_cell(_default(p['default']))} "
                    f"| {_cell(_allowed(schema))} | {_cell(p['description'] or '')} |"
                )
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/dags.md is out of date")
    args = parser.parse_args(argv)
    text = render(collect())
    if args.check:
        current = DOC_PATH.read_text() if DOC_PATH.exists() else ""
        if current != text:
            print(f"{DOC_PATH} is out of date: run python -m scones.dag_reference", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.write_text(text)
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
