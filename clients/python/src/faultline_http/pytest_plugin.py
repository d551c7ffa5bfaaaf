"""The pytest plugin (registered through the ``pytest11`` entry point when the package is installed).

    @pytest.mark.faultline("outage.yaml")        # a file, relative to the test file (or YAML text)
    def test_retries(faultline):
        ...  # faultline.url, faultline.journal(), faultline.verify()

The ``faultline`` fixture starts a server for the test, every listener on a free port, and always stops it.
Without the marker it serves the built-in scenario.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from .server import Faultline


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "faultline(*scenarios, tls=False, seed=None, admin_token=None, args=(), grace_period='1s', threads=1): the scenario the "
        "faultline fixture serves: files (relative to the test file) or YAML text; none: the built-in scenario",
    )


@pytest.fixture
def faultline(request: pytest.FixtureRequest) -> Iterator[Faultline]:
    """A Faultline server for this test, started from the test's ``@pytest.mark.faultline(...)`` scenario (the
    built-in scenario without one) on free ports, and stopped when the test ends, whatever happened in it."""
    marker = request.node.get_closest_marker("faultline")
    scenarios = marker.args if marker is not None else ()
    options = dict(marker.kwargs) if marker is not None else {}
    base_dir = Path(request.path).parent
    server = Faultline.start(*scenarios, base_dir=base_dir, **options)
    try:
        yield server
    finally:
        server.stop()
