"""Puts the faultline binary into the wheel, as ruff and uv ship theirs.

The binary goes into the wheel's ``.data/scripts`` folder, so pip installs it straight into the environment's
``bin`` (on the PATH), and the wheel is tagged for the platform the binary runs on.

Which binary: the one named by ``FAULTLINE_BIN`` when that is set; otherwise this checkout's release build with the
Swift standard library linked statically (``swift build -c release --static-swift-stdlib``, built here if needed,
which takes many minutes the first time). The copy in the wheel is stripped when ``strip`` is available.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_ELF_MACHINES = {62: "x86_64", 183: "aarch64"}


class FaultlineBinaryHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        binary = self._binary()
        reported = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False).stdout.strip()
        package_version = self.metadata.version
        if reported != package_version:
            raise RuntimeError(
                f"{binary} says it is faultline {reported or '(no version)'}, but this package is {package_version}: "
                "build the binary from the same checkout"
            )
        self._staging = Path(tempfile.mkdtemp(prefix="faultline-wheel-"))
        staged = self._staging / "faultline"
        strip = shutil.which("strip")
        if strip and os.environ.get("FAULTLINE_STRIP", "1") != "0":
            subprocess.run([strip, "-o", str(staged), str(binary)], check=True)
        else:
            shutil.copy2(binary, staged)
        staged.chmod(0o755)

        build_data["shared_scripts"][str(staged)] = "faultline"
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{_platform_tag(staged)}"
        license_file = self._repository() / "LICENSE"
        if license_file.is_file():
            build_data["force_include"][str(license_file)] = "faultline_http/LICENSE"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        staging = getattr(self, "_staging", None)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)

    def _repository(self) -> Path:
        return Path(self.root).resolve().parents[1]

    def _binary(self) -> Path:
        named = os.environ.get("FAULTLINE_BIN")
        if named:
            path = Path(named)
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise RuntimeError(f"FAULTLINE_BIN={named} is not an executable file")
            return path
        repository = self._repository()
        if not (repository / "Package.swift").is_file():
            raise RuntimeError(
                "set FAULTLINE_BIN to a faultline binary: this build is not inside a Faultline checkout "
                f"({repository} has no Package.swift) so it cannot build one"
            )
        swift = shutil.which("swift")
        if swift is None:
            raise RuntimeError("set FAULTLINE_BIN to a faultline binary, or install Swift to build one here")
        command = [swift, "build", "-c", "release", "--static-swift-stdlib", "--product", "faultline"]
        print(
            f"faultline wheel: FAULTLINE_BIN is not set; building the binary ({' '.join(command[1:])}); "
            "the first build takes many minutes",
            file=sys.stderr,
            flush=True,
        )
        subprocess.run(command, cwd=repository, check=True)
        folder = subprocess.run(
            command[:4] + ["--static-swift-stdlib", "--show-bin-path"],
            cwd=repository,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return Path(folder) / "faultline"


def _platform_tag(binary: Path) -> str:
    """``manylinux_2_N_ARCH`` for a binary that needs only the system's C libraries (N: the newest glibc symbol
    version it asks for); plain ``linux_ARCH`` for one that still loads Swift's libraries from a toolchain (a debug
    build: fine for this machine's tests, not for anyone else)."""
    data = binary.read_bytes()
    if data[:4] != b"\x7fELF":
        raise RuntimeError(f"{binary} is not a Linux (ELF) binary")
    machine = int.from_bytes(data[18:20], "little" if data[5] == 1 else "big")
    arch = _ELF_MACHINES.get(machine)
    if arch is None:
        raise RuntimeError(f"{binary} is for ELF machine {machine}, which this package does not know")
    needed = _needed_libraries(binary)
    if needed is None or any("swift" in name or "Foundation" in name for name in needed):
        return f"linux_{arch}"
    minors = [int(minor) for minor in re.findall(rb"GLIBC_2\.(\d+)", data)]
    return f"manylinux_2_{max(minors, default=17)}_{arch}"


def _needed_libraries(binary: Path) -> list[str] | None:
    readelf = shutil.which("readelf") or shutil.which("llvm-readelf")
    if readelf is None:
        return None
    output = subprocess.run([readelf, "-d", str(binary)], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", output)
