"""What installing the wheel gives: the faultline command on the PATH and the registered pytest plugin."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig

import faultline_http

VERSION = importlib.metadata.version("faultline-http")


def test_faultline_is_on_the_path_from_the_environments_scripts() -> None:
    found = shutil.which("faultline")
    assert found == os.path.join(sysconfig.get_path("scripts"), "faultline")
    assert faultline_http.binary_path() == found
    output = subprocess.run(["faultline", "--version"], capture_output=True, text=True, check=True).stdout
    assert output == f"{VERSION}\n"


def test_python_dash_m_runs_the_binary() -> None:
    output = subprocess.run([sys.executable, "-m", "faultline_http", "--version"], capture_output=True, text=True, check=True)
    assert output.stdout == f"{VERSION}\n"


def test_the_pytest_plugin_is_registered() -> None:
    plugins = [entry for entry in importlib.metadata.entry_points(group="pytest11") if entry.name == "faultline"]
    assert [entry.value for entry in plugins] == ["faultline_http.pytest_plugin"]


def test_the_package_is_the_installed_one() -> None:
    # Not the source tree: these tests check the wheel.
    assert faultline_http.__file__.startswith(sysconfig.get_path("purelib"))
