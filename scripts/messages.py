"""Extract translatable strings into locale/{nl,nb}/LC_MESSAGES/django.po and compile them to .mo.

Needs GNU gettext (xgettext, msgfmt) on the translator's machine. The compiled .mo files are committed, so running
the app never needs gettext.
"""

import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
IGNORE = [".venv", ".data", "tests", "bench", "build", "node_modules"]


def main() -> int:
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    ignore = [arg for name in IGNORE for arg in ("--ignore", f"{name}/*")]
    subprocess.run(
        [*manage, "makemessages", "-l", "nl", "-l", "nb", "--no-obsolete", "--no-location", *ignore],
        cwd=BASE_DIR,
        check=True,
    )
    subprocess.run(
        [*manage, "compilemessages", "-l", "nl", "-l", "nb", "--ignore", ".venv/*"], cwd=BASE_DIR, check=True
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
