"""Securable names: `catalog.schema.table` with SQL-style backtick quoting for parts holding dots.

A part that is not a plain word is written in backticks, a backtick inside doubled:
``` `my.cat`.sales.`o``brien` ``` is the three parts ("my.cat", "sales", "o`brien").
"""

from __future__ import annotations

import re

_PLAIN = re.compile(r"^[A-Za-z0-9_@\-*]+$")

Name = tuple[str, ...]


def parse_name(text: str) -> Name:
    """The parts of a dotted, optionally backtick-quoted name; ValueError if malformed."""
    parts: list[str] = []
    i, n = 0, len(text)
    if not text:
        raise ValueError("empty name")
    while True:
        if i < n and text[i] == "`":
            buf, i = [], i + 1
            while True:
                if i >= n:
                    raise ValueError(f"unclosed backtick in {text!r}")
                if text[i] == "`":
                    if i + 1 < n and text[i + 1] == "`":
                        buf.append("`")
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(text[i])
                i += 1
            part = "".join(buf)
        else:
            j = text.find(".", i)
            j = n if j < 0 else j
            part = text[i:j]
            if "`" in part:
                raise ValueError(f"a backtick inside an unquoted part of {text!r} (quote the part: `...`)")
            i = j
        if part == "":
            raise ValueError(f"empty part in {text!r}")
        parts.append(part)
        if i >= n:
            return tuple(parts)
        if text[i] != ".":
            raise ValueError(f"expected '.' after a quoted part in {text!r}")
        i += 1
        if i >= n:
            raise ValueError(f"trailing '.' in {text!r}")


def format_part(part: str) -> str:
    return part if _PLAIN.match(part) and part != "*" else "`" + part.replace("`", "``") + "`"


def format_name(name: Name) -> str:
    """The text form of a name, quoting only parts that need it (a final * stays a wildcard)."""
    out = [format_part(p) for p in name[:-1]]
    out.append("*" if name[-1] == "*" else format_part(name[-1]))
    return ".".join(out)


def full_name(name: Name) -> str:
    """The name as Unity Catalog's REST API spells it (parts joined by dots, unquoted)."""
    return ".".join(name)
