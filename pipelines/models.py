"""The SQL models under `pipelines/sql/`, read with their headers and put in dependency order.

A model is one `.sql` file whose leading comment says what it holds and, in two header lines,

    -- depends_on: stg_responses, stg_trades     (models that must run first)
    -- materialized: table | view | script      (staging default: table; marts: script)

Staging models are SELECTs over this build's new raw records (`raw_new`); the runner materializes
them as temporary tables or views. Mart models are scripts that keep persistent tables up to date
from the staging results, incrementally (see each file). Checks are SELECTs of offending rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from .errors import ModelError

SQL_DIR = Path(__file__).parent / "sql"
LAYERS = ("staging", "marts")
_HEADER = re.compile(r"^--\s*(depends_on|materialized):\s*(.*)$")
MATERIALIZATIONS = ("table", "view", "script")


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    layer: str  # staging | marts | checks
    path: Path
    depends_on: tuple[str, ...]
    materialized: str
    sql: str

    @property
    def summary(self) -> str:
        """The first line of the leading comment, after the model's name."""
        first = self.sql.lstrip().splitlines()[0] if self.sql.strip() else ""
        return first.lstrip("- ").split(":", 1)[-1].strip()

    def statement(self) -> str:
        """What the runner executes for this model."""
        if self.materialized == "table":
            return f"CREATE OR REPLACE TEMP TABLE {self.name} AS\n{self.sql}"
        if self.materialized == "view":
            return f"CREATE OR REPLACE TEMP VIEW {self.name} AS\n{self.sql}"
        return self.sql


def read_model(path: Path, layer: str) -> Model:
    sql = path.read_text(encoding="utf-8")
    headers: dict[str, str] = {}
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        if match := _HEADER.match(line.strip()):
            headers[match.group(1)] = match.group(2).strip()
    depends = tuple(d.strip() for d in headers.get("depends_on", "").split(",") if d.strip())
    materialized = headers.get("materialized", "table" if layer == "staging" else "script")
    if materialized not in MATERIALIZATIONS:
        raise ModelError(f"{path}: materialized must be one of {', '.join(MATERIALIZATIONS)}, not {materialized!r}")
    return Model(path.stem, layer, path, depends, materialized, sql.rstrip().rstrip(";"))


def load_models(sql_dir: Path = SQL_DIR) -> list[Model]:
    """Staging and mart models, each after the models it depends on (staging before marts)."""
    models = {m.name: m for layer in LAYERS for m in _read_layer(sql_dir, layer)}
    graph: dict[str, set[str]] = {}
    for model in models.values():
        for dep in model.depends_on:
            if dep not in models:
                raise ModelError(f"{model.path}: depends on {dep!r}, which is no model")
        graph[model.name] = set(model.depends_on)
        if model.layer == "marts":  # every mart sees the whole of staging
            graph[model.name] |= {m.name for m in models.values() if m.layer == "staging"}
    sorter = TopologicalSorter(graph)
    try:
        sorter.prepare()
    except CycleError as exc:
        raise ModelError(f"the models depend on each other in a circle: {' -> '.join(exc.args[1])}") from None
    ordered: list[Model] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())  # a stable order among equals: runs are reproducible
        ordered += [models[n] for n in ready]
        sorter.done(*ready)
    return ordered


def load_checks(sql_dir: Path = SQL_DIR) -> list[Model]:
    return _read_layer(sql_dir, "checks")


def _read_layer(sql_dir: Path, layer: str) -> list[Model]:
    return [read_model(p, layer) for p in sorted((sql_dir / layer).glob("*.sql"))]
