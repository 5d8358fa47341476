"""``docs/configuration.md``, generated from :class:`scones.settings.Settings`.

``scones config-reference --output docs/configuration.md`` writes it; a test fails when the
file differs from what this renders, so the reference cannot fall behind the settings.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from dataclasses import MISSING, Field, fields
from pathlib import Path
from typing import Any, get_type_hints

from scones.settings import SECTIONS, Settings

#: Where the reference lives in the repository.
DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
COMMAND = "scones config-reference --output docs/configuration.md"

_HEADER = f"""# Configuration reference

<!-- Generated from include/scones/settings.py by `{COMMAND}`: edit the settings' docs there, not this file. -->

Every setting is looked up, first match wins, in: the DAG run's params (where the trigger form
has a field of that name), the Airflow Variable, the environment variable, then the default.
DAGs read Variables only inside running tasks; at parse time (the trigger form's defaults) only
the environment and the defaults count. A value that cannot be turned into the setting's type,
or is out of its range, fails with a message naming the setting and where the value came from.
A bad value in the `workflow` section fails only what reads that section (the workflow DAG's
tasks and `scones traffic`); the other DAGs and the monitor page do not read it.

A task asks the API server once for the names of the `scones_*` Variables, then reads those and
the ones its worker's environment sets (`AIRFLOW_VAR_SCONES_<NAME>`), not one request for each
setting. So a Variable counts when it is stored in Airflow (the UI's Admin > Variables,
`airflow variables set`) or in the worker's environment; one that only the API server's own
environment holds does not. A worker with a secrets backend of its own, or an Airflow of several
teams, asks for each setting.

Lists are comma-separated in Variables and the environment (`bicycle,motorcycle`); booleans are
`true`/`false` (or `1`/`0`, `yes`/`no`, `on`/`off`).

The local emulator has settings of its own (`SCONES_LAMBDA_MAX_CONCURRENCY`,
`SCONES_LAMBDA_IDLE_SECONDS`, `SCONES_LAMBDA_ENDPOINT_URL`, in the emulator process's
environment or moto's `/moto-api/config`): see `include/scones/emulator/awslambda/_config.py`.
They are not here because the emulator imports nothing from the product, these settings included.
"""


def _type_name(kind: Any) -> str:
    text = getattr(kind, "__name__", None) or str(kind)
    return "list of str" if str(kind).startswith("tuple[str") else text


def _default(f: Field) -> str:
    if f.metadata.get("shown"):
        return f.metadata["shown"]
    value = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
    if isinstance(value, tuple):
        value = ",".join(value)
    if isinstance(value, bool):
        value = str(value).lower()
    return f"`{value}`" if value != "" else "(empty)"


def _rows(cls: type, section: str = "") -> list[str]:
    hints = get_type_hints(cls)
    scope = f"{section}_" if section else ""
    rows = ["| Setting | Environment | Airflow Variable | Type | Default | What it does |", "|---|---|---|---|---|---|"]
    for f in fields(cls):
        if f.name in SECTIONS and not section:
            continue
        key = f"{scope}{f.name}"
        doc = f.metadata.get("doc") or ""
        if not doc:
            raise ValueError(f"setting {key} has no doc: give it one in include/scones/settings.py")
        variable = "(none: environment only)" if f.metadata.get("env_only") else f"`scones_{key}`"
        rows.append(
            f"| `{f.name}` | `SCONES_{key.upper()}` | {variable} | {_type_name(hints[f.name])} | {_default(f)} | "
            f"{doc.replace('|', '/')} |"
        )
    return rows


def render() -> str:
    """The reference as Markdown."""
    parts = [_HEADER, "## Settings\n", "\n".join(_rows(Settings)), ""]
    for section, cls in SECTIONS.items():
        parts += [
            f"## The `{section}` section\n",
            inspect.cleandoc(cls.__doc__ or "") + "\n",
            "\n".join(_rows(cls, section)),
            "",
        ]
    return "\n".join(parts)


def config_reference(args: argparse.Namespace) -> int:
    text = render()
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "config-reference", help="print (or write) the configuration reference, generated from the settings"
    )
    p.add_argument("--output", type=Path, help=f"write it here (the repository's copy: {COMMAND.split()[-1]})")
    p.set_defaults(func=config_reference)
