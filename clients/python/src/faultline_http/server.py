"""A Faultline server started for a test: its URLs, and its control API as methods."""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence, Union

from ._binary import binary_path
from .errors import ExpectationsNotMet, FaultlineError

Scenario = Union[str, "os.PathLike[str]"]
"""A scenario file's path, or a scenario's YAML text (a string with a line break in it)."""

_READY = "faultline listening on "
_CA = "faultline CA certificate: "
# Servers not yet stopped, stopped when the interpreter exits (a test run interrupted with Ctrl-C included).
_running: set[Faultline] = set()


@dataclass(frozen=True)
class ExpectationResult:
    """One check of one ``expect:`` entry."""

    rule: str
    """The rule the expectation names."""
    check: str
    """The check's key, such as ``count`` or ``honorsRetryAfter``."""
    met: bool
    reason: str
    """A sentence saying why the check is met or not."""
    evidence: str
    """The requests and their timing."""
    location: str
    """Where the expectation is written, as ``FILE:LINE:COLUMN``."""


@dataclass(frozen=True)
class Expectations:
    """The verdict so far on the client's behaviour, against the scenario's ``expect:`` block.

    It is true when every check is met (and when the scenario has no expectations).
    """

    met: bool
    results: tuple[ExpectationResult, ...]
    text: str
    """Faultline's report for people: one line per check, and the requests that show it."""

    def __bool__(self) -> bool:
        return self.met

    @property
    def failures(self) -> list[ExpectationResult]:
        """The checks that are not met."""
        return [result for result in self.results if not result.met]


class Faultline:
    """A running Faultline server.

    Start one with :meth:`start` (or use the pytest fixture ``faultline``); stop it with :meth:`stop` or a
    ``with`` block. Every listener is on a free port, so tests running in parallel never clash.
    """

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        folder: Path,
        urls: list[str],
        ports: list[int],
        ca_file: str | None,
        admin_token: str | None,
    ) -> None:
        self._process = process
        self._folder = folder
        self._admin_token = admin_token
        self._grace_seconds = 10.0
        self.urls: list[str] = urls
        """Every listener's URL, in the scenario's listener order (no trailing slash)."""
        self.ports: list[int] = ports
        """Every listener's port, in the same order."""
        self.ca_file: str | None = ca_file
        """The generated test CA's certificate (PEM) that TLS clients should trust; ``None`` without a TLS
        listener that uses a generated certificate."""
        self.url: str | None = next((url for url in urls if url.startswith("http://")), None)
        """The first plaintext listener's URL, such as ``http://127.0.0.1:41234`` (no trailing slash)."""
        self.https_url: str | None = next((url for url in urls if url.startswith("https://")), None)
        """The first TLS listener's URL, such as ``https://localhost:41235``; ``None`` without one."""

    # ----- starting and stopping -----

    @classmethod
    def start(
        cls,
        *scenarios: Scenario,
        tls: bool = False,
        seed: int | None = None,
        admin_token: str | None = None,
        args: Sequence[str] = (),
        grace_period: str = "1s",
        threads: int | None = 1,
        base_dir: str | os.PathLike[str] | None = None,
        binary: str | None = None,
        startup_timeout: float = 30.0,
    ) -> Faultline:
        """Starts ``faultline serve`` and returns once every listener accepts connections.

        :param scenarios: scenario files (relative paths are looked up in ``base_dir``, then the current folder), or
            YAML text; none: the built-in scenario (``/status/503``, ``/delay/2``, ``/get`` and the rest).
        :param tls: add a TLS listener with a generated certificate (``https_url``, ``ca_file``).
        :param seed: the seed for every random choice, to replay a run.
        :param admin_token: start the control API with ``--admin-token`` (the methods here send it).
        :param args: further ``faultline serve`` options, such as ``["--max-body-size", "1MiB"]``.
        :param grace_period: how long :meth:`stop` lets responses in flight finish.
        :param threads: event loop threads (``--threads``; ``None``: one per core). One, the default, makes the
            journal and the verdict exact at once: the control API request is then read on the loop that wrote the
            client's last response, after that response was journaled. With several loops, an exchange is journaled
            a moment after its last byte went out, and a request to the control API handled by another loop in that
            moment does not see it yet.
        :raises FaultlineError: the server did not start; the message carries its error output (a bad
            scenario's ``FILE:LINE:COLUMN: error: ...`` lines).
        """
        executable = binary or binary_path()
        folder = Path(tempfile.mkdtemp(prefix="faultline-"))
        try:
            files = [_scenario_file(scenario, index, folder, base_dir) for index, scenario in enumerate(scenarios)]
            port_file = folder / "ports"
            command = [executable, "serve", *files, "--free-ports", "--port-file", str(port_file)]
            command += ["--ca-out", str(folder / "ca.pem"), "--grace-period", grace_period]
            if tls:
                command += ["--tls-port", "0"]
            if threads is not None:
                command += ["--threads", str(threads)]
            if seed is not None:
                command += ["--seed", str(seed)]
            if admin_token is not None:
                command += ["--admin-token", admin_token]
            command += list(args)
            with open(folder / "stdout", "wb") as stdout, open(folder / "stderr", "wb") as stderr:
                process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        try:
            urls, ports, ca_file = _wait_until_ready(process, folder, startup_timeout)
        except BaseException:
            if process.poll() is None:
                process.kill()
            process.wait()
            shutil.rmtree(folder, ignore_errors=True)
            raise
        server = cls(process, folder, urls, ports, ca_file, admin_token)
        server._grace_seconds = _seconds(grace_period)
        _running.add(server)
        return server

    def stop(self) -> None:
        """Stops the server (SIGTERM: responses in flight get the grace period, then it exits). Safe to call
        twice."""
        # A server that has not exited a few seconds after its grace period gets SIGTERM once more (a signal can
        # be lost in the server), then SIGKILL.
        patience = self._grace_seconds + 5
        for _ in range(2):
            if self._process.poll() is not None:
                break
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=patience)
            except subprocess.TimeoutExpired:
                patience = 5
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)
        _running.discard(self)

    @property
    def running(self) -> bool:
        """Whether the server process is still running."""
        return self._process.poll() is None

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """The server's exit code once stopped (0 after a clean stop), else ``None``."""
        return self._process.poll()

    def output(self) -> str:
        """What the server wrote on standard error so far (its log, and the reason it stopped)."""
        try:
            return (self._folder / "stderr").read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> Faultline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else f"stopped ({self.returncode})"
        return f"<Faultline {' '.join(self.urls)} pid={self.pid} {state}>"

    # ----- the control API -----

    def health(self) -> dict[str, Any]:
        """``GET /__faultline/health``: ``{"status": "ok", "rules": N, "seed": N, "journalDropped": N}``."""
        return json.loads(self._control("GET", "health"))

    def journal(self, rule: str | None = None, since: int | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Every exchange so far, oldest first, as Faultline's journal entries (``method``, ``path``, ``status``,
        ``rule``, ``step``, ``fault``, ``outcome``, ``headers``, ``receivedAt``, ``firstByteMs``, ``totalMs``...).

        :param rule: only the exchanges this rule (by name) answered.
        :param since: only entries with an ``id`` greater than this.
        :param limit: at most this many (the newest).
        """
        query = {name: value for name, value in (("rule", rule), ("since", since), ("limit", limit)) if value is not None}
        endpoint = "journal" + ("?" + urllib.parse.urlencode(query) if query else "")
        return json.loads(self._control("GET", endpoint))

    def clear_journal(self) -> None:
        """Empties the journal (``DELETE /__faultline/journal``)."""
        self._control("DELETE", "journal")

    def reset(self) -> None:
        """Starts the scenario over: sequences, ``times``, ``after``, outage windows, rate limits and the journal.
        Rules switched on or off stay so."""
        self._control("POST", "reset")

    def enable(self, rule: str) -> None:
        """Switches on every rule called ``rule`` (one written with ``enabled: false`` starts off).

        :raises FaultlineError: no rule has that name."""
        self._control("POST", f"rules/{urllib.parse.quote(rule, safe='')}/enable")

    def disable(self, rule: str) -> None:
        """Switches off every rule called ``rule``: requests fall through to the rules after it.

        :raises FaultlineError: no rule has that name."""
        self._control("POST", f"rules/{urllib.parse.quote(rule, safe='')}/disable")

    def load(self, scenario: Scenario) -> None:
        """Replaces the scenario (a file or YAML text) while the server runs; listeners and ports stay.

        :raises FaultlineError: the scenario is refused; the message has its ``<control-api>:LINE:COLUMN``
            errors, and the old scenario keeps serving."""
        if isinstance(scenario, str) and "\n" in scenario:
            text = textwrap.dedent(scenario).lstrip("\n")
        else:
            text = Path(scenario).read_text()
        self._control("PUT", "scenario", text.encode())

    def scenario(self) -> str:
        """The scenario being served, as YAML."""
        return self._control("GET", "scenario").decode()

    def expectations(self) -> Expectations:
        """The verdict so far on the scenario's ``expect:`` block (it does not raise; see :meth:`verify`)."""
        verdict = json.loads(self._control("GET", "expectations"))
        text = self._control("GET", "expectations?format=text").decode()
        results = tuple(
            ExpectationResult(
                rule=item["rule"],
                check=item["check"],
                met=item["met"],
                reason=item["reason"],
                evidence=item["evidence"],
                location=item["location"],
            )
            for item in verdict["results"]
        )
        return Expectations(met=verdict["met"], results=results, text=text)

    def verify(self) -> Expectations:
        """Checks the scenario's ``expect:`` block against what the client did so far.

        :returns: the verdict, when every expectation is met.
        :raises ExpectationsNotMet: with Faultline's report (which check failed, why, and the requests)."""
        __tracebackhide__ = True  # pytest shows the report at the test's own line, not in here
        verdict = self.expectations()
        if not verdict.met:
            raise ExpectationsNotMet(verdict.text)
        return verdict

    def _control(self, method: str, endpoint: str, body: bytes | None = None) -> bytes:
        base = self.url or self.https_url
        if base is None:
            raise FaultlineError("the server has no listener")
        request = urllib.request.Request(f"{base}/__faultline/{endpoint}", data=body, method=method)
        if self._admin_token is not None:
            request.add_header("Authorization", f"Bearer {self._admin_token}")
        if body is not None:
            request.add_header("Content-Type", "application/yaml")
        try:
            with _opener.open(request, timeout=30) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace").strip()
            try:
                detail = json.loads(detail)["error"]
            except (ValueError, KeyError, TypeError):
                pass
            raise FaultlineError(f"{method} /__faultline/{endpoint}: {error.code}: {detail}") from None
        except urllib.error.URLError as error:
            state = "running" if self.running else f"exited with {self.returncode}"
            raise FaultlineError(f"{method} /__faultline/{endpoint}: {error.reason} (the server is {state})") from None


def _unverified_context() -> ssl.SSLContext:
    # The control API is this process's own server on loopback; when it has only TLS listeners their certificates
    # may be faulty on purpose.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


# No proxy from the environment: the server is on this machine.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=_unverified_context()))


def _scenario_file(scenario: Scenario, index: int, folder: Path, base_dir: str | os.PathLike[str] | None) -> str:
    if isinstance(scenario, str) and "\n" in scenario:
        path = folder / f"scenario-{index + 1}.yaml"
        # Text written indented inside a decorator or a function is taken as if it started at the margin.
        path.write_text(textwrap.dedent(scenario).lstrip("\n"))
        return str(path)
    path = Path(scenario)
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = ([Path(base_dir) / path] if base_dir is not None else []) + [Path.cwd() / path]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    tried = " or ".join(str(candidate) for candidate in candidates)
    raise FaultlineError(f"no scenario file {os.fspath(scenario)} (looked for {tried}); YAML text needs a line break")


def _wait_until_ready(process: subprocess.Popen[bytes], folder: Path, timeout: float) -> tuple[list[str], list[int], str | None]:
    """Waits for the port file (written once every listener is bound) and one readiness line per port."""
    deadline = time.monotonic() + timeout
    while True:
        exited = process.poll()
        ports = _read_ports(folder / "ports")
        lines = (folder / "stdout").read_text(errors="replace").splitlines()
        urls = [line[len(_READY) :].split()[0] for line in lines if line.startswith(_READY) and len(line) > len(_READY)]
        if ports and len(urls) >= len(ports):
            ca_file = next((line[len(_CA) :].strip() for line in lines if line.startswith(_CA)), None)
            return urls, ports, ca_file
        if exited is not None:
            errors = (folder / "stderr").read_text(errors="replace").strip()
            raise FaultlineError(f"faultline serve exited with {exited} before it was ready:\n{errors}")
        if time.monotonic() > deadline:
            raise FaultlineError(f"faultline serve was not ready within {timeout:g} s")
        time.sleep(0.01)


def _seconds(duration: str) -> float:
    """A `--grace-period` duration (``500ms``, ``2s``, ``1m``) in seconds; 10 when it cannot be read."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*", duration)
    if match is None:
        return 10.0
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "ms" else value * 60 if unit == "m" else value


def _read_ports(path: Path) -> list[int]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [int(line) for line in text.split() if line.isdigit()]


@atexit.register
def _stop_all() -> None:
    for server in list(_running):
        server.stop()


def start(*scenarios: Scenario, **options: Any) -> Faultline:
    """Shorthand for :meth:`Faultline.start`."""
    return Faultline.start(*scenarios, **options)


__all__ = ["Faultline", "Expectations", "ExpectationResult", "Scenario", "start"]
