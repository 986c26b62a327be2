"""Reading a text file a person wrote (a config, a policy): UTF-8, and anything else is bad input naming the file."""

from __future__ import annotations

from pathlib import Path

from lakectl.core.errors import ConfigError


def read_utf8(file: Path, what: str) -> str:
    """The file's text; not UTF-8 (or not a readable file) is a ConfigError (exit 2) naming it and the byte."""
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = file.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{file}:{line}: the {what} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start:,})",
            "save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
        ) from None
    except (IsADirectoryError, PermissionError) as exc:
        raise ConfigError(f"{file}: cannot read the {what}: {exc.strerror}") from None
