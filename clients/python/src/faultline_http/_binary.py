"""Finding the faultline binary the wheel installed."""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

from .errors import FaultlineError


def binary_path() -> str:
    """The path of the ``faultline`` binary: ``$FAULTLINE_BIN`` when set, else the one this package installed into
    the environment's scripts folder (the user scheme's too), else the first ``faultline`` on the PATH."""
    named = os.environ.get("FAULTLINE_BIN")
    if named:
        if not (os.path.isfile(named) and os.access(named, os.X_OK)):
            raise FaultlineError(f"FAULTLINE_BIN={named} is not an executable file")
        return named
    folders = [sysconfig.get_path("scripts")]
    try:
        folders.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    except KeyError:
        pass
    for folder in folders:
        if folder:
            candidate = Path(folder) / "faultline"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    found = shutil.which("faultline")
    if found:
        return found
    raise FaultlineError(
        "the faultline binary was not found: install the faultline-http wheel into this environment, "
        "or set FAULTLINE_BIN to a faultline binary"
    )
