"""What every command's ``run(args, ctx)`` is given: the output, the secret resolver, the environment, stdin."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO

from tmsclient.output import Output
from tmsclient.settings import SecretResolver


@dataclass
class Context:
    """What a command needs from its surroundings; tests build one around in-memory streams."""

    out: Output
    secrets: SecretResolver
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    interactive: bool = True
    stdin: IO[str] = field(default_factory=lambda: sys.stdin)
