"""The errors the package raises."""

from __future__ import annotations


class FaultlineError(Exception):
    """Faultline could not do what was asked: the server did not start (its message says why, with the scenario's
    ``FILE:LINE:COLUMN`` for a bad scenario), or the control API said no (an unknown rule, a bad scenario)."""


class ExpectationsNotMet(AssertionError):
    """Raised by :meth:`Faultline.verify` when the client did not behave as the scenario's ``expect:`` asks.

    Its message is Faultline's report: one line per check, why it failed, and the requests that show it. It is an
    ``AssertionError``, so pytest reports it as a test failure.
    """

    def __init__(self, report: str) -> None:
        super().__init__(report.rstrip("\n"))
        self.report = report
