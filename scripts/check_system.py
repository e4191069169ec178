"""Checks what `make` needs from the machine before anything is installed. Runs on the system Python, stdlib only."""

import ctypes.util
import os
import sys

APT = {
    "pango-1.0": "libpango-1.0-0",
    "pangoft2-1.0": "libpangoft2-1.0-0",
    "harfbuzz": "libharfbuzz0b",
    "fontconfig": "fontconfig",
}


def main() -> int:
    purpose = sys.argv[1] if len(sys.argv) > 1 else "run"
    problems, packages = [], []
    if sys.version_info < (3, 11) or sys.version_info >= (3, 13):
        problems.append(
            f"Python 3.11 or 3.12 is needed; `{sys.executable}` is {sys.version.split()[0]}. "
            f"Run `make {purpose} PYTHON=/path/to/python3.11`."
        )
    try:
        import ensurepip  # noqa: F401 - `python -m venv` needs it; Debian ships it separately
    except ImportError:
        packages.append(f"python3.{sys.version_info.minor}-venv")
    for lib, package in APT.items():
        if ctypes.util.find_library(lib) is None:
            packages.append(package)
    if purpose == "test" and not os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        packages.append("chromium")
        problems.append("Browser tests need Debian's chromium at /usr/bin/chromium (or set CHROMIUM=/path/to/it).")
    if packages:
        problems.append(
            "Missing system packages (PDF rendering needs Pango and HarfBuzz; browser tests need chromium):\n"
            f"    sudo apt-get install -y {' '.join(packages)} fonts-dejavu-core"
        )
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
