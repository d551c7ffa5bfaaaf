"""Retries against a 503 storm, judged by the scenario's expect: block through verify()."""

from __future__ import annotations

import time

import httpx
import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from faultline_http import ExpectationsNotMet, Faultline


def polite_session() -> requests.Session:
    """A requests session that retries 503s and honours Retry-After (urllib3's Retry)."""
    retry = Retry(total=5, status_forcelist=[503], backoff_factor=0.1, respect_retry_after_header=True)
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


def impatient_get(client: httpx.Client, url: str, attempts: int = 5) -> httpx.Response:
    """A client that retries 503s at once, ignoring Retry-After: the bug verify() is there to catch."""
    for _ in range(attempts):
        response = client.get(url)
        if response.status_code != 503:
            return response
    return response


@pytest.mark.faultline("scenarios/storm.yaml")
def test_a_client_that_honours_retry_after_passes(faultline: Faultline) -> None:
    started = time.monotonic()
    response = polite_session().get(f"{faultline.url}/api/orders", timeout=10)

    assert response.status_code == 200
    assert response.json() == {"orders": [42]}
    # Two waits of Retry-After: 1 second each.
    assert time.monotonic() - started >= 2.0
    verdict = faultline.verify()
    assert verdict.met
    assert [(result.check, result.met) for result in verdict.results] == [("count", True), ("honorsRetryAfter", True)]
    assert verdict.text.startswith("faultline: 2 of 2 expectations met\n")


@pytest.mark.faultline("scenarios/storm.yaml")
def test_a_client_that_ignores_retry_after_fails_verify(faultline: Faultline) -> None:
    with httpx.Client(timeout=10) as client:
        response = impatient_get(client, f"{faultline.url}/api/orders")
    assert response.status_code == 200

    with pytest.raises(ExpectationsNotMet) as failure:
        faultline.verify()

    report = str(failure.value)
    assert report.startswith("faultline: 1 of 2 expectations met\n")
    assert "  ok   orders count: " in report
    assert "  FAIL orders honorsRetryAfter: Request 2 came " in report
    assert "Retry-After: 1.000 s" in report
    verdict = faultline.expectations()
    assert not verdict
    assert [result.check for result in verdict.failures] == ["honorsRetryAfter"]
    assert verdict.failures[0].location.endswith("storm.yaml:15:5")


@pytest.mark.faultline("scenarios/storm.yaml")
def test_a_client_that_gives_up_too_early_fails_the_count(faultline: Faultline) -> None:
    response = requests.get(f"{faultline.url}/api/orders", timeout=10)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"

    with pytest.raises(ExpectationsNotMet, match=r"FAIL orders count: 1 request; expected exactly 3"):
        faultline.verify()
