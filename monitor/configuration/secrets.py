"""Secrets: named in the configuration, read from the environment or a credential file.

The TOML never holds a secret itself: a key such as ``password`` is given as ``password_env =
"VAR"`` or ``password_file = "path"``. A file path may start with ``$CREDENTIALS_DIRECTORY/``
(systemd's LoadCredential=). A `Secret` never prints its value: ``str()``/``repr()`` show ``***``;
code that must use it calls ``reveal()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CREDENTIALS_PREFIX = "$CREDENTIALS_DIRECTORY/"


@dataclass(frozen=True)
class Secret:
    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret(***)"


@dataclass(frozen=True)
class SecretRef:
    env: str | None = None
    file: str | None = None

    def resolve(self, base: Path, environ: Mapping[str, str]) -> Secret:
        """Read the secret. Raises ValueError with a message that never contains the value."""
        if self.env is not None:
            value = environ.get(self.env)
            if not value:
                raise ValueError(f"environment variable {self.env} is not set")
            return Secret(value.strip())
        assert self.file is not None
        raw = self.file
        if raw.startswith(CREDENTIALS_PREFIX):
            creds = environ.get("CREDENTIALS_DIRECTORY")
            if not creds:
                raise ValueError("$CREDENTIALS_DIRECTORY is not set (LoadCredential= missing?)")
            path = Path(creds) / raw[len(CREDENTIALS_PREFIX):]
        else:
            path = Path(raw) if Path(raw).is_absolute() else base / raw
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read credential file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:  # its message would quote a byte of the secret and where
            raise ValueError(f"credential file {path} is not UTF-8 text") from None
        if not value:
            raise ValueError(f"credential file {path} is empty")
        return Secret(value)


def parse_secret_ref(raw: Any) -> SecretRef | None:
    """Validator for a secret setting: None, or a mapping with exactly one of _env / _file."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ValueError("give exactly one of <name>_env or <name>_file")
    (suffix, value), = raw.items()
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{suffix.lstrip('_')} must be a non-empty string")
    return SecretRef(env=value) if suffix == "_env" else SecretRef(file=value)
