"""The README's example: a client with retries, tested against an outage with two lines of fixture code.

Run it with `pytest clients/python/examples` once the faultline-http wheel and `requests` are installed.
"""

import pytest
import requests
from requests.adapters import HTTPAdapter, Retry


def get_orders(base_url: str) -> dict:
    """The client under test: retries 503s, honouring Retry-After."""
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=Retry(total=5, status_forcelist=[503])))
    return session.get(f"{base_url}/api/orders", timeout=10).json()


@pytest.mark.faultline("outage.yaml")
def test_the_client_survives_an_outage(faultline):
    assert get_orders(faultline.url) == {"orders": []}
    faultline.verify()
