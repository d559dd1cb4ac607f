"""The --faults spec, reproducible draws, and the broken bodies the app sends."""

from __future__ import annotations

import json
from collections import Counter

import orjson
import pytest

from emulator.errors import FaultSpecError
from emulator.faults import (
    MYSQL_ERROR,
    Fault,
    FaultInjector,
    FaultItem,
    FaultPlan,
    error_body,
    html_error_page,
    parse_faults,
    truncate_body,
)

# --- parsing ---------------------------------------------------------------------------------


def test_the_documented_example_parses() -> None:
    plan = parse_faults("http502=0.05,mysql=0.02,slow:30=0.01,overlap@trades=0.2")
    assert plan.items == (
        FaultItem("http502", None, None, 0.05),
        FaultItem("mysql", None, None, 0.02),
        FaultItem("slow", 30.0, None, 0.01),
        FaultItem("overlap", 5, "trades", 0.2),
    )


def test_an_empty_spec_is_an_empty_plan() -> None:
    assert parse_faults("") == FaultPlan()
    assert parse_faults("  ") == FaultPlan()
    assert not parse_faults("")
    assert parse_faults("").pick(1, "trades", 0, True) is None


def test_parameters_default_and_can_be_given() -> None:
    plan = parse_faults("slow=0.1,overlap:12@trades=0.1,slow:2.5@ticker=0.1")
    assert [(i.kind, i.param, i.endpoint) for i in plan.items] == [
        ("slow", 30.0, None),
        ("overlap", 12, "trades"),
        ("slow", 2.5, "ticker"),
    ]


def test_whitespace_around_items_is_tolerated() -> None:
    assert parse_faults(" http503=0.1 , drop=0.2 ") == parse_faults("http503=0.1,drop=0.2")


@pytest.mark.parametrize(
    ("spec", "bad_item", "why"),
    [
        ("slow:abc=0.1", "slow:abc=0.1", "slow's parameter must be a number of seconds"),
        ("slow:-1=0.1", "slow:-1=0.1", "slow's parameter must be a number of seconds"),
        ("http502=0.05,http500=0.1", "http500=0.1", 'unknown kind "http500"'),
        ("mysql", "mysql", "expected kind[:param][@endpoint]=probability"),
        ("mysql=1.5", "mysql=1.5", "the probability must be a number between 0 and 1"),
        ("mysql=-0.1", "mysql=-0.1", "the probability must be a number between 0 and 1"),
        ("mysql=nan", "mysql=nan", "the probability must be a number between 0 and 1"),
        ("mysql=lots", "mysql=lots", "the probability must be a number between 0 and 1"),
        ("http502:3=0.1", "http502:3=0.1", "http502 takes no parameter"),
        ("overlap:0@trades=0.1", "overlap:0@trades=0.1", "overlap's parameter must be a whole number"),
        ("overlap:2.5=0.1", "overlap:2.5=0.1", "overlap's parameter must be a whole number"),
        ("drop@=0.1", "drop@=0.1", "expected an endpoint name after @"),
    ],
)
def test_a_bad_item_is_named_in_a_one_line_error(spec: str, bad_item: str, why: str) -> None:
    with pytest.raises(FaultSpecError) as info:
        parse_faults(spec)
    message = str(info.value)
    assert message.startswith(f'--faults: "{bad_item}": {why}')
    assert "\n" not in message


def test_an_empty_item_is_named_by_position() -> None:
    with pytest.raises(FaultSpecError, match=r"item #2 is empty"):
        parse_faults("drop=0.1,,mysql=0.1")


def test_probabilities_adding_up_past_one_are_refused_naming_the_endpoint() -> None:
    with pytest.raises(FaultSpecError, match=r'endpoint "trades" add up to 1\.1') as info:
        parse_faults("http502=0.5,mysql=0.4,overlap@trades=0.2")
    assert "overlap@trades=0.2" in str(info.value)
    with pytest.raises(FaultSpecError, match=r"every endpoint add up to 1\.2"):
        parse_faults("http502=0.6,drop=0.6")


def test_filters_on_different_endpoints_may_each_reach_one() -> None:
    plan = parse_faults("http502@ticker=0.7,drop@trades=0.7,mysql=0.3")
    assert len(plan.items) == 3


def test_a_filter_that_extends_another_counts_both() -> None:
    with pytest.raises(FaultSpecError, match='endpoint "trades_fetch"'):
        parse_faults("drop@trades=0.6,mysql@trades_fetch=0.6")


def test_exactly_one_in_total_is_allowed() -> None:
    assert parse_faults("http502=0.1,http503=0.2,http504=0.7")


# --- draws -----------------------------------------------------------------------------------

PLAN = parse_faults("http502=0.1,mysql=0.05,truncate=0.05,overlap@trades=0.2,repeat@trades=0.1")


def sequence(seed: int, endpoint: str = "trades", count: int = 500) -> list[Fault | None]:
    injector = FaultInjector(PLAN, seed)
    return [injector.next(endpoint, trade_endpoint=endpoint.startswith("trades")) for _ in range(count)]


def test_the_same_seed_gives_the_same_sequence() -> None:
    assert sequence(42) == sequence(42)
    assert any(f is not None for f in sequence(42))


def test_another_seed_gives_another_sequence() -> None:
    assert sequence(42) != sequence(43)


def test_pick_depends_only_on_seed_endpoint_and_n() -> None:
    injector = FaultInjector(PLAN, 9)
    interleaved: list[Fault | None] = []
    for i in range(300):
        interleaved.append(injector.next("trades", True))
        for _ in range(i % 3):
            injector.next("ticker", False)
    assert interleaved == sequence(9, count=300)
    assert [PLAN.pick(9, "trades", n, True) for n in range(300)] == interleaved
    assert injector.count("trades") == 300


@pytest.mark.parametrize("seed", [1, 2])
def test_frequencies_are_near_the_probabilities_over_ten_thousand_draws(seed: int) -> None:
    draws = 10_000
    counts = Counter(f.kind if f else None for f in (PLAN.pick(seed, "trades", n, True) for n in range(draws)))
    expected = {"http502": 0.1, "mysql": 0.05, "truncate": 0.05, "overlap": 0.2, "repeat": 0.1, None: 0.5}
    for kind, p in expected.items():
        # Five standard deviations: a correct draw fails this about once in millions of runs.
        tolerance = 5 * (p * (1 - p) / draws) ** 0.5
        assert abs(counts[kind] / draws - p) < tolerance, (kind, counts[kind])


def test_trade_only_kinds_never_fire_on_other_endpoints_and_others_keep_their_rate() -> None:
    counts = Counter(f.kind if f else None for f in (PLAN.pick(5, "ticker", n, False) for n in range(10_000)))
    assert counts["overlap"] == 0
    assert counts["repeat"] == 0
    assert abs(counts["http502"] / 10_000 - 0.1) < 0.015


def test_trade_only_kinds_without_a_filter_still_skip_non_trade_endpoints() -> None:
    plan = parse_faults("repeat=1")
    assert all(plan.pick(3, "ticker", n, False) is None for n in range(1_000))
    assert all(plan.pick(3, "trades", n, True) == Fault("repeat", None) for n in range(1_000))


def test_an_endpoint_filter_matches_the_name_and_names_starting_with_it() -> None:
    plan = parse_faults("drop@trades=1")
    assert plan.pick(0, "trades", 0, True) == Fault("drop", None)
    assert plan.pick(0, "trades_fetch", 0, True) == Fault("drop", None)
    assert all(plan.pick(0, "ticker", n, False) is None for n in range(1_000))
    assert all(plan.pick(0, "depth", n, False) is None for n in range(1_000))


def test_depth_filter_does_not_reach_fulldepth() -> None:
    plan = parse_faults("slow:1@depth=1")
    assert plan.pick(0, "depth", 0, False) == Fault("slow", 1.0)
    assert plan.pick(0, "fulldepth", 0, False) is None


def test_a_fault_label_reads_like_the_spec() -> None:
    assert Fault("slow", 30.0).label == "slow:30"
    assert Fault("slow", 2.5).label == "slow:2.5"
    assert Fault("overlap", 5).label == "overlap:5"
    assert Fault("http502", None).label == "http502"


# --- bodies ----------------------------------------------------------------------------------

BODY = orjson.dumps({"result": "success", "data": [{"tid": str(i), "price_int": "9000000"} for i in range(50)]})


@pytest.mark.parametrize("body", [BODY, BODY + b"\n", b'{"a":1}', b"[1]", b"[]"])
def test_a_truncated_body_is_cut_strictly_inside_and_no_longer_parses(body: bytes) -> None:
    for n in range(200):
        cut = truncate_body(body, 7, n)
        assert 0 < len(cut) < len(body)
        assert body.startswith(cut)
        with pytest.raises(json.JSONDecodeError):
            json.loads(cut)


def test_truncation_is_reproducible_and_varies_with_n() -> None:
    assert truncate_body(BODY, 7, 3) == truncate_body(BODY, 7, 3)
    assert len({len(truncate_body(BODY, 7, n)) for n in range(50)}) > 10


@pytest.mark.parametrize(
    ("status", "reason"),
    [(502, "Bad Gateway"), (503, "Service temporarily unavailable"), (504, "Gateway Timeout")],
)
def test_error_bodies_are_mtgox_error_envelopes(status: int, reason: str) -> None:
    doc = json.loads(error_body(status))
    assert doc["result"] == "error"
    assert reason in doc["error"]
    assert doc["token"]


def test_error_body_refuses_other_statuses() -> None:
    with pytest.raises(ValueError, match="500"):
        error_body(500)


def test_the_html_error_page_names_its_status_and_is_not_json() -> None:
    page = html_error_page(502)
    assert page.startswith(b"<!DOCTYPE html>")
    assert b"502 Bad Gateway" in page
    with pytest.raises(json.JSONDecodeError):
        json.loads(page)


def test_the_mysql_error_is_the_captured_text() -> None:
    assert MYSQL_ERROR == b"MySQL error, please retry later"
