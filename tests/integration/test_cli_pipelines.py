"""The pipeline commands as a user runs them: build, check, query; errors one line with exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.pipelines_harness import Response, us, write_raw


def marketrec(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "marketrec", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def money(value: str, currency: str) -> dict[str, str]:
    scale = 10**8 if currency == "BTC" else 10**5
    return {"value": value, "value_int": str(round(float(value) * scale)), "display": value, "currency": currency}


def history(entries: list[tuple[int, str, str, str]], currency: str = "USD") -> Response:
    rows = [{"Index": str(i), "Date": 1357034400 + i, "Type": t, "Value": money(v, currency),
             "Balance": money(b, currency), "Info": "", "Link": []} for i, t, v, b in reversed(entries)]
    body = orjson.dumps({"result": "success", "data": {"records": str(len(rows)), "result": rows, "current_page": 1,
                                                       "max_page": 1, "max_results": 50}})
    return Response("wallet_history", 2, "-", body, us("2013-01-01T12:00:00"), currency=currency)


def trades_page() -> Response:
    trades = [{"date": 1357034400 + i, "price": "13.5", "amount": "1", "price_int": "1350000",
               "amount_int": "100000000", "tid": str((1357034400 + i) * 10**6), "price_currency": "USD",
               "item": "BTC", "trade_type": "bid", "primary": "Y", "properties": "limit"} for i in range(3)]
    return Response("trades", 1, "BTCUSD", orjson.dumps({"result": "success", "return": trades}),
                    us("2013-01-01T11:00:00"))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_raw(root, [trades_page(), history([(1, "deposit", "100", "100"), (2, "spent", "13.5", "86.5")])])
    return root


def test_build_check_and_query_work_on_a_recorded_data_root(data: Path) -> None:
    built = marketrec("build", "--data", str(data))
    assert built.returncode == 0, built.stderr
    assert "2 new raw files, 2 records, 0 quarantined" in built.stdout
    assert "\x1b" not in built.stdout and len(built.stdout.splitlines()) == 1
    assert (data / "warehouse.duckdb").exists()
    checked = marketrec("check", "--data", str(data))
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.count("ok   ") == 6
    table = marketrec("query", "--data", str(data), "SELECT tid, price FROM trades ORDER BY tid")
    assert table.returncode == 0 and "1357034400000000  13.50000000" in table.stdout and "(3 rows)" in table.stdout
    csv = marketrec("query", "--data", str(data), "-f", "csv",
                    "SELECT interval, volume FROM ohlc WHERE interval = '1d'")
    assert csv.stdout.splitlines() == ["interval,volume", "1d,3.00000000"]
    js = marketrec("query", "--data", str(data), "-f", "json", "SELECT currency, balance FROM balances ORDER BY ts")
    assert [orjson.loads(line) for line in js.stdout.splitlines()] == [
        {"currency": "USD", "balance": "100.00000000"}, {"currency": "USD", "balance": "86.50000000"}]


def test_a_query_can_be_written_as_parquet_and_read_back(data: Path, tmp_path: Path) -> None:
    assert marketrec("build", "--data", str(data)).returncode == 0
    out = tmp_path / "bars.parquet"
    done = marketrec("query", "--data", str(data), "-f", "parquet", "-o", str(out), "SELECT * FROM ohlc")
    assert done.returncode == 0, done.stderr
    import pyarrow.parquet as pq

    table = pq.read_table(out)
    assert table.num_rows == 6 and str(table.schema.field("volume").type) == "decimal128(38, 8)"


def test_a_broken_invariant_makes_check_exit_1_naming_the_row(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_raw(root, [history([(1, "deposit", "100", "100"), (2, "spent", "13.5", "90")])])  # should be 86.5
    assert marketrec("build", "--data", str(root)).returncode == 0
    checked = marketrec("check", "--data", str(root))
    assert checked.returncode == 1
    assert "FAIL ledger_continuity" in checked.stdout
    assert "idx=2" in checked.stdout and "balance=90" in checked.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["build", "--data", "no/such/dir"], "no such directory"),
    (["check", "--data", "{tmp}"], "no warehouse here"),
    (["query", "--data", "{data}", "SELEC 1"], "query: Parser Error"),
    (["query", "--data", "{data}", "-f", "xml", "SELECT 1"], "--format: 'xml' is not one of"),
    (["query", "--data", "{data}", "-f", "parquet", "SELECT 1"], "--format parquet needs --output FILE"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(data: Path, tmp_path: Path, args: list[str],
                                                     message: str) -> None:
    assert marketrec("build", "--data", str(data)).returncode == 0
    argv = [a.format(tmp=tmp_path, data=data) for a in args]
    done = marketrec(*argv, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert done.stdout == ""  # no progress bar, no colour: the output is not a terminal


def test_a_build_while_another_process_holds_the_warehouse_is_refused_clearly(data: Path) -> None:
    assert marketrec("build", "--data", str(data)).returncode == 0
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; "
                               f"c = duckdb.connect({str(data / 'warehouse.duckdb')!r}); print('held', flush=True); "
                               "time.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        done = marketrec("build", "--data", str(data))
        assert done.returncode == 2
        assert "open in another process" in done.stderr
    finally:
        holder.kill()
        holder.wait()
