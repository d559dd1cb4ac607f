"""The SQL models: read with their headers, put in dependency order, refused when they cannot be."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipelines.errors import ModelError
from pipelines.models import SQL_DIR, load_checks, load_models, read_model


def write(directory: Path, layer: str, name: str, body: str) -> None:
    (directory / layer).mkdir(parents=True, exist_ok=True)
    (directory / layer / f"{name}.sql").write_text(body)


def test_every_model_runs_after_the_models_it_depends_on_and_staging_before_marts() -> None:
    models = load_models()
    position = {m.name: i for i, m in enumerate(models)}
    for m in models:
        assert all(position[d] < position[m.name] for d in m.depends_on), m.name
    last_staging = max(i for i, m in enumerate(models) if m.layer == "staging")
    assert all(i > last_staging for i, m in enumerate(models) if m.layer == "marts")


def test_every_model_and_check_opens_with_a_comment_naming_it() -> None:
    for m in [*load_models(), *load_checks()]:
        assert m.sql.startswith(f"-- {m.name}: "), m.path
        assert m.summary, m.path


def test_the_shipped_models_are_named_like_dbt_models() -> None:
    staging = [m.name for m in load_models() if m.layer == "staging"]
    assert all(n.startswith("stg_") or n == "staged_endpoints" for n in staging)
    assert {"trades", "ticker", "depth_snapshots", "depth_levels", "book_top", "account_ledger", "account_trades",
            "balances", "ohlc", "ohlc_at", "ohlc_filled", "coverage", "gaps", "quarantine"} <= {
        m.name for m in load_models() if m.layer == "marts"}


def test_a_dependency_on_a_model_that_does_not_exist_is_named(tmp_path: Path) -> None:
    write(tmp_path, "staging", "stg_a", "-- stg_a: a\n-- depends_on: stg_missing\nSELECT 1")
    with pytest.raises(ModelError, match="stg_missing"):
        load_models(tmp_path)


def test_models_that_depend_on_each_other_in_a_circle_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "staging", "stg_a", "-- stg_a: a\n-- depends_on: stg_b\nSELECT 1")
    write(tmp_path, "staging", "stg_b", "-- stg_b: b\n-- depends_on: stg_a\nSELECT 1")
    with pytest.raises(ModelError, match="circle"):
        load_models(tmp_path)


def test_an_unknown_materialization_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "staging", "stg_a", "-- stg_a: a\n-- materialized: ephemeral\nSELECT 1")
    with pytest.raises(ModelError, match="ephemeral"):
        read_model(tmp_path / "staging" / "stg_a.sql", "staging")


def test_staging_models_become_temporary_tables_or_views_and_marts_run_as_written(tmp_path: Path) -> None:
    write(tmp_path, "staging", "stg_a", "-- stg_a: a\nSELECT 1 AS x;\n")
    write(tmp_path, "staging", "stg_v", "-- stg_v: v\n-- materialized: view\nSELECT 2 AS y")
    write(tmp_path, "marts", "m", "-- m: m\nCREATE TABLE IF NOT EXISTS m (x INT)")
    by_name = {m.name: m for m in load_models(tmp_path)}
    assert by_name["stg_a"].statement().startswith("CREATE OR REPLACE TEMP TABLE stg_a AS")
    assert by_name["stg_a"].statement().endswith("SELECT 1 AS x")  # the trailing semicolon goes
    assert by_name["stg_v"].statement().startswith("CREATE OR REPLACE TEMP VIEW stg_v AS")
    assert by_name["m"].statement() == by_name["m"].sql


def test_the_pipelines_never_import_the_collector() -> None:
    for path in Path(SQL_DIR).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] in ("collector", "emulator", "marketrec")], path
