"""The requirements a wheelhouse lacks for a target platform and Python: every Requires-Dist of every wheel in it,
its marker judged for the target (pip judges markers for the machine it runs on, even with --platform, so a
Windows-only dependency such as pyspnego's sspilib is missed on Linux), whose project has no wheel there.

    python scripts/offline_requirements.py WHEELHOUSE linux|windows X.Y    # prints one requirement a line
"""

from __future__ import annotations

import sys
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

PLATFORMS = {
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"},
    "windows": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"},
}


def target_environment(platform: str, python: str) -> dict[str, str]:
    env = dict(default_environment())
    env.update(PLATFORMS[platform])
    env.update(
        python_version=python,
        python_full_version=f"{python}.0",
        implementation_name="cpython",
        platform_python_implementation="CPython",
    )
    return env


def missing(house: Path, platform: str, python: str) -> list[str]:
    env = target_environment(platform, python)
    wheels = sorted(house.glob("*.whl"))
    present = {canonicalize_name(parse_wheel_filename(w.name)[0]) for w in wheels}
    wanted: dict[str, str] = {}
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as z:
            name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
            metadata = Parser().parsestr(z.read(name).decode("utf-8"))
        for line in metadata.get_all("Requires-Dist") or []:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
                continue
            key = canonicalize_name(req.name)
            if key not in present:
                req.marker = None
                wanted[key] = str(req)
    return sorted(wanted.values())


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[2] not in PLATFORMS:
        sys.exit(__doc__)
    for requirement in missing(Path(sys.argv[1]), sys.argv[2], sys.argv[3]):
        print(requirement)
