"""Every table and column of the warehouse is described, in the warehouse itself and in the README."""

from __future__ import annotations

import re
from pathlib import Path

from tests.pipelines_harness import rows

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_column_of_every_table_and_view_has_a_comment_in_the_warehouse(demo_warehouse: Path) -> None:
    bare = rows(demo_warehouse, """
        SELECT c.table_name, c.column_name FROM duckdb_columns() AS c
        WHERE c.database_name = current_database() AND c.schema_name = 'main'
          AND c.table_name NOT LIKE '\\_%' ESCAPE '\\' AND c.comment IS NULL AND c.table_name <> 'ohlc_filled'
        ORDER BY 1, 2""")
    assert bare == []


def test_the_readme_lists_every_table_with_each_of_its_columns(demo_warehouse: Path) -> None:
    text = README.read_text()
    columns = rows(demo_warehouse, """
        SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns()
        WHERE database_name = current_database() AND schema_name = 'main'
          AND table_name NOT LIKE '\\_%' ESCAPE '\\' AND table_name <> 'ohlc_filled'
        GROUP BY table_name""")
    assert len(columns) >= 15
    for table, names in columns:
        match = re.search(rf"^### `{table}`\n(.*?)(?=^### |\Z)", text, re.S | re.M)
        assert match, f"README has no section for {table}"
        documented = re.findall(r"^\| `([^`]+)` \|", match.group(1), re.M)
        assert documented == names, f"README's {table} columns differ from the warehouse's"
