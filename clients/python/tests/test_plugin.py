"""The pytest plugin as a user's suite meets it: pytester runs small pytest sessions of their own."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

HELLO = 'version: 1\nrules:\n  - path: /hello\n    body: "hi\\n"\n'


def test_the_marker_takes_a_file_beside_the_test_and_the_server_stops_after_a_failure(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    record = tmp_path / "record.json"
    monkeypatch.setenv("RECORD", str(record))
    tests = pytester.mkdir("suite")
    (tests / "hello.yaml").write_text(HELLO)
    (tests / "test_hello.py").write_text(
        "import json, os, urllib.request\n"
        "import pytest\n"
        "\n"
        '@pytest.mark.faultline("hello.yaml")\n'
        "def test_fails_on_purpose(faultline):\n"
        '    with open(os.environ["RECORD"], "w") as f:\n'
        '        json.dump({"url": faultline.url, "pid": faultline.pid}, f)\n'
        '    assert urllib.request.urlopen(faultline.url + "/hello").read() == b"hi\\n"\n'
        '    assert False, "failing on purpose"\n'
    )

    # Run from the folder above: the marker's file is found beside the test file, not in the current folder.
    result = pytester.runpytest_subprocess("suite")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: failing on purpose*"])
    seen = json.loads(record.read_text())
    with pytest.raises(ProcessLookupError):
        import os

        os.kill(seen["pid"], 0)
    address = urlsplit(seen["url"])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address.hostname, address.port), timeout=5).close()


def test_a_bad_scenario_fails_the_test_with_its_line_and_column(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", bad="version: 1\nrules:\n  - path: /x\n    stauts: 200\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.faultline("bad.yaml")
        def test_never_runs(faultline):
            pass
        """
    )

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*FaultlineError: faultline serve exited with 1 before it was ready:*", "*bad.yaml:4:5: error: *"])


def test_two_tests_in_parallel_get_their_own_ports(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    monkeypatch.setenv("MEETING", str(meeting))
    pytester.makepyfile(
        """
        import os, pathlib, time, urllib.request
        import pytest

        # Both tests ask for port 8080; the fixture moves every listener to a free port.
        FIXED_PORT = "version: 1\\nlisteners:\\n  - port: 8080\\nrules:\\n  - path: /who\\n    body: me\\n"
        MEETING = pathlib.Path(os.environ["MEETING"])

        def meet(name, faultline):
            (MEETING / name).write_text(faultline.url)
            # Wait (bounded) until the other test's server is up too: the two really run at once.
            deadline = time.monotonic() + 60
            while len(list(MEETING.iterdir())) < 2:
                assert time.monotonic() < deadline, "the other test never ran alongside this one"
                time.sleep(0.05)
            assert urllib.request.urlopen(faultline.url + "/who").read() == b"me"
            assert [entry["path"] for entry in faultline.journal()] == ["/who"]

        @pytest.mark.faultline(FIXED_PORT)
        def test_one(faultline):
            meet("one", faultline)

        @pytest.mark.faultline(FIXED_PORT)
        def test_two(faultline):
            meet("two", faultline)
        """
    )

    result = pytester.runpytest_subprocess("-p", "xdist", "-n", "2")

    result.assert_outcomes(passed=2)
    urls = {path.name: path.read_text() for path in meeting.iterdir()}
    assert set(urls) == {"one", "two"}
    assert urls["one"] != urls["two"]
    assert all(":8080" not in url for url in urls.values())


def test_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.faultline(*scenarios, *): the scenario the faultline fixture serves*"])
