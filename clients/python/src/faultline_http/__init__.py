"""Faultline for Python: the faultline mock HTTP server, and a pytest plugin that starts it for a test.

    import faultline_http
    with faultline_http.start("scenario.yaml") as server:
        ...  # server.url, server.journal(), server.verify()

In pytest, use the ``faultline`` fixture and the ``@pytest.mark.faultline(...)`` marker instead (registered when the
package is installed).
"""

from __future__ import annotations

from ._binary import binary_path
from .errors import ExpectationsNotMet, FaultlineError
from .server import ExpectationResult, Expectations, Faultline, Scenario, start

__all__ = [
    "ExpectationResult",
    "Expectations",
    "ExpectationsNotMet",
    "Faultline",
    "FaultlineError",
    "Scenario",
    "binary_path",
    "start",
]
