"""The README's SQL and Python examples that say they run against the demo warehouse do.

A fenced ```sql block whose first line is `-- runs against the demo warehouse`, or a ```python block
whose first line is `# runs against the demo warehouse`, is run as written: SQL through DuckDB on the
warehouse opened read-only, Python with exec() after MARKETREC_WAREHOUSE names the warehouse (which is
how the README's Python finds it). Other blocks are prose and are not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
MARKERS = {"sql": "-- runs against the demo warehouse", "python": "# runs against the demo warehouse"}
AT_LEAST = {"sql": 3, "python": 2}
_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([A-Za-z0-9_+-]*)[^`]*$")


@dataclass(frozen=True)
class Example:
    language: str
    line: int  # of the block's first line in the README
    code: str

    @property
    def name(self) -> str:
        return f"{self.language}-line-{self.line}"


def examples(markdown: str) -> list[Example]:
    """The fenced sql and python blocks whose first line is the marker (leading blanks ignored)."""
    found: list[Example] = []
    fence: str | None = None
    language, start, body = "", 0, []
    for number, line in enumerate(markdown.splitlines(), start=1):
        if fence is None:
            m = _FENCE.match(line.strip())
            if m:
                fence, language, start, body = m.group(1), m.group(2).lower(), number + 1, []
            continue
        if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
            marker = MARKERS.get(language)
            if marker and body and body[0].strip() == marker:
                found.append(Example(language, start, "\n".join(body) + "\n"))
            fence = None
            continue
        body.append(line)
    return found


README_EXAMPLES = examples(README.read_text(encoding="utf-8")) if README.exists() else []


def test_the_example_finder_takes_only_marked_sql_and_python_blocks() -> None:
    text = "\n".join([
        "```sql", "-- runs against the demo warehouse", "SELECT 1;", "```",
        "```sql", "SELECT 'not marked';", "```",
        "```python", "# runs against the demo warehouse", "print('hi')", "```",
        "```sh", "# runs against the demo warehouse", "```",
        "````python", "# runs against the demo warehouse", "x = '''", "```", "'''", "````",
    ])
    found = examples(text)
    assert [(e.language, e.line) for e in found] == [("sql", 2), ("python", 9), ("python", 16)]
    assert found[0].code == "-- runs against the demo warehouse\nSELECT 1;\n"
    assert "```" in found[2].code  # a longer fence keeps a shorter one inside as text


@pytest.mark.parametrize("language", sorted(AT_LEAST))
def test_the_readme_carries_enough_examples_that_run_against_the_demo_warehouse(language: str) -> None:
    marked = [e for e in README_EXAMPLES if e.language == language]
    assert len(marked) >= AT_LEAST[language], (
        f"README.md has {len(marked)} ```{language} blocks starting with {MARKERS[language]!r}; "
        f"at least {AT_LEAST[language]} expected")


@pytest.mark.parametrize("example", [e for e in README_EXAMPLES if e.language == "sql"], ids=lambda e: e.name)
def test_the_readme_sql_example_runs_against_the_demo_warehouse(example: Example, demo_warehouse: Path) -> None:
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        relation = con.sql(example.code)  # several statements: all run, the last one's rows are fetched
        if relation is not None:
            relation.fetchall()
    except duckdb.Error as exc:
        pytest.fail(f"README.md line {example.line}: {exc}\n{example.code}")
    finally:
        con.close()


@pytest.mark.parametrize("example", [e for e in README_EXAMPLES if e.language == "python"], ids=lambda e: e.name)
def test_the_readme_python_example_runs_against_the_demo_warehouse(
    example: Example, demo_warehouse: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MARKETREC_WAREHOUSE", str(demo_warehouse))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)  # whatever an example writes lands here
    code = compile("\n" * (example.line - 1) + example.code, str(README), "exec")  # tracebacks name README lines
    exec(code, {"__name__": "__readme__"})
