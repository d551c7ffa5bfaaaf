"""``python -m faultline_http ARGS`` runs the bundled ``faultline ARGS``."""

from __future__ import annotations

import os
import sys

from ._binary import binary_path


def main() -> None:
    binary = binary_path()
    os.execv(binary, [binary, *sys.argv[1:]])


if __name__ == "__main__":
    main()
