"""HTTPS with the generated test CA: clients trust faultline.ca_file."""

from __future__ import annotations

import ssl

import httpx
import pytest
import requests

from faultline_http import Faultline


@pytest.mark.faultline(tls=True)
def test_requests_trusts_the_generated_ca(faultline: Faultline) -> None:
    assert faultline.https_url is not None and faultline.https_url.startswith("https://localhost:")
    assert faultline.ca_file is not None

    response = requests.get(f"{faultline.https_url}/get", verify=faultline.ca_file, timeout=10)

    assert response.status_code == 200
    assert response.text == "ok\n"
    [entry] = faultline.journal()
    assert entry["tls"] is not None


@pytest.mark.faultline(tls=True)
def test_without_the_ca_the_certificate_is_refused(faultline: Faultline) -> None:
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        requests.get(f"{faultline.https_url}/get", timeout=10)


@pytest.mark.faultline(
    """
    version: 1
    listeners:
      - port: 8080
      - port: 8443
        tls: auto
    rules:
      - path: /secure
        body: "secret\\n"
    """
)
def test_httpx_against_a_scenario_tls_listener(faultline: Faultline) -> None:
    # The scenario's fixed ports are moved to free ones, so parallel runs never clash.
    assert len(faultline.ports) == 2 and 8443 not in faultline.ports
    context = ssl.create_default_context(cafile=faultline.ca_file)
    with httpx.Client(verify=context, timeout=10) as client:
        response = client.get(f"{faultline.https_url}/secure")
    assert response.status_code == 200
    assert response.http_version == "HTTP/1.1"
    assert response.text == "secret\n"
