"""Driving the server mid-test: switching rules on and off, loading a scenario, resetting."""

from __future__ import annotations

import httpx
import pytest
import requests

from faultline_http import Faultline, FaultlineError

SWITCHED_OUTAGE = """
version: 1
rules:
  - name: pay-outage
    enabled: false
    path: /api/pay
    status: 503
    retryAfter: 1
  - name: pay
    path: /api/pay
    json: {paid: true}
"""


@pytest.mark.faultline(SWITCHED_OUTAGE)
def test_enabling_a_rule_mid_test_starts_an_outage(faultline: Faultline) -> None:
    with httpx.Client(base_url=faultline.url, timeout=10) as client:
        assert client.get("/api/pay").status_code == 200

        faultline.enable("pay-outage")
        outage = client.get("/api/pay")
        assert outage.status_code == 503
        assert outage.headers["Retry-After"] == "1"

        faultline.disable("pay-outage")
        assert client.get("/api/pay").json() == {"paid": True}

    assert [(entry["rule"], entry["status"]) for entry in faultline.journal()] == [
        ("pay", 200),
        ("pay-outage", 503),
        ("pay", 200),
    ]


@pytest.mark.faultline(SWITCHED_OUTAGE)
def test_an_unknown_rule_is_an_error(faultline: Faultline) -> None:
    with pytest.raises(FaultlineError, match=r"404: no rule is called 'pay-outgae'"):
        faultline.enable("pay-outgae")


def test_load_replaces_the_scenario_and_refuses_a_bad_one(faultline: Faultline) -> None:
    assert requests.get(f"{faultline.url}/api/pay", timeout=10).status_code == 404

    faultline.load(SWITCHED_OUTAGE)
    assert requests.get(f"{faultline.url}/api/pay", timeout=10).json() == {"paid": True}
    assert "pay-outage" in faultline.scenario()

    with pytest.raises(FaultlineError) as refused:
        faultline.load("version: 1\nrules:\n  - path: /x\n    stauts: 200\n")
    assert "400: <control-api>:4:5: error: " in str(refused.value)
    # The old scenario keeps serving.
    assert requests.get(f"{faultline.url}/api/pay", timeout=10).json() == {"paid": True}


@pytest.mark.faultline(
    """
    version: 1
    rules:
      - {path: /api/items, times: 1, status: 503}
      - {path: /api/items, json: {items: []}}
    """
)
def test_reset_starts_the_scenario_over(faultline: Faultline) -> None:
    url = f"{faultline.url}/api/items"
    assert [requests.get(url, timeout=10).status_code for _ in range(2)] == [503, 200]
    faultline.reset()
    assert [requests.get(url, timeout=10).status_code for _ in range(2)] == [503, 200]


def test_the_server_outside_pytest() -> None:
    with Faultline.start() as server:
        assert requests.get(f"{server.url}/status/418", timeout=10).status_code == 418
        assert server.running
    assert not server.running
    assert server.returncode == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/get", timeout=10)


def test_a_missing_scenario_file_is_named() -> None:
    with pytest.raises(FaultlineError, match=r"no scenario file nowhere\.yaml"):
        Faultline.start("nowhere.yaml")
