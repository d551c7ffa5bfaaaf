"""Reading the journal: what the client really sent and what Faultline answered."""

from __future__ import annotations

import httpx
import requests

from faultline_http import Faultline


def test_the_journal_records_each_exchange(faultline: Faultline) -> None:
    # No marker: the built-in scenario.
    assert requests.get(f"{faultline.url}/status/503", timeout=10).status_code == 503
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{faultline.url}/get", headers={"X-Test": "journal"}).status_code == 200
        assert client.post(f"{faultline.url}/status/201", content=b"hello").status_code == 201

    entries = faultline.journal()

    assert [(entry["method"], entry["path"], entry["status"], entry["rule"]) for entry in entries] == [
        ("GET", "/status/503", 503, "status-retry"),
        ("GET", "/get", 200, "get"),
        ("POST", "/status/201", 201, "status"),
    ]
    assert all(entry["outcome"] == "completed" for entry in entries)
    assert ["Retry-After", "1"] in entries[0]["responseHeaders"]
    assert ["X-Test", "journal"] in [[name, value] for name, value in entries[1]["headers"]]
    assert entries[2]["bodyBytes"] == 5
    assert entries[0]["id"] < entries[1]["id"] < entries[2]["id"]


def test_the_journal_filters_by_rule_and_since(faultline: Faultline) -> None:
    for path in ("/get", "/status/503", "/get"):
        requests.get(f"{faultline.url}{path}", timeout=10)

    gets = faultline.journal(rule="get")
    assert [entry["path"] for entry in gets] == ["/get", "/get"]
    first = faultline.journal()[0]["id"]
    assert [entry["path"] for entry in faultline.journal(since=first)] == ["/status/503", "/get"]
    assert [entry["path"] for entry in faultline.journal(limit=1)] == ["/get"]


def test_clear_journal_and_reset_start_over(faultline: Faultline) -> None:
    requests.get(f"{faultline.url}/get", timeout=10)
    faultline.clear_journal()
    assert faultline.journal() == []

    requests.get(f"{faultline.url}/get", timeout=10)
    faultline.reset()
    assert faultline.journal() == []
    assert faultline.health()["status"] == "ok"


def test_a_dropped_connection_is_journaled_as_such(faultline: Faultline) -> None:
    with httpx.Client(timeout=10) as client:
        try:
            client.get(f"{faultline.url}/drop")
        except httpx.HTTPError:
            pass
        else:
            raise AssertionError("/drop answered")

    [entry] = faultline.journal(rule="drop")
    assert entry["fault"] == "drop"
    assert entry["outcome"] == "dropped"
