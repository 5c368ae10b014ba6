"""Stands in for the get-pip.py that ansible-test downloads from a host CI cannot reach: pip from ensurepip, then
the pinned pip and packages ansible-test asks for from the package index (ansible-test sanity --local runs it as
``python get_pip.py [pip options] pip==X ... [--no-setuptools] [--no-wheel]``)."""

from __future__ import annotations

import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main(argv: list[str]) -> int:
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
    args = [a for a in argv if a not in GET_PIP_ONLY]
    return subprocess.run([sys.executable, "-m", "pip", "install", *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
