"""The docs cannot drift: generated pages match their sources, and every relative link resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scones import dag_reference

REPO_ROOT = Path(__file__).resolve().parent.parent
PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_dags_page_is_written_from_the_dag_files():
    dags = dag_reference.collect()
    assert [d["dag_id"] for d in dags] == sorted(p.stem for p in dag_reference.DAGS_FOLDER.glob("scones_*.py"))
    expected = dag_reference.render(dags)
    assert dag_reference.DOC_PATH.read_text() == expected, "docs/dags.md is stale: run python -m scones.dag_reference"


def test_dags_page_shows_each_param_with_its_shipped_default():
    text = dag_reference.render(
        [
            {
                "dag_id": "d",
                "doc_md": "Doc.",
                "schedule": "",
                "description": None,
                "params": [
                    {
                        "name": "epochs",
                        "default": 30,
                        "description": "a | b",
                        "schema": {"type": "integer", "minimum": 1, "title": "Epochs"},
                    }
                ],
            }
        ]
    )
    assert "Schedule: none: triggered from the UI or the REST API." in text
    assert "| `epochs` | Epochs | `30` | integer, minimum 1 | a \\| b |" in text  # a pipe cannot break the table


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path):
    broken = []
    for target in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://", "#", "mailto:")):
            continue
        path = target.split("#", 1)[0]
        if not (page.parent / path).exists():
            broken.append(target)
    assert not broken, f"{page.name} links to missing files: {broken}"
