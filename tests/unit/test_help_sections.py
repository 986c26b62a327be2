"""What --help says (issue 31, item 4): the command list in panels that follow the pipeline and the operator's
day, an Examples section and the exit codes in every command's help, metavars that say what a value is, and
ranges as people write them. Commands are found by walking the CLI, so a new command is held to the same."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from lakectl.cli.app import build
from lakectl.cli.help import PANELS, command

ENV = {"COLUMNS": "80", "TERMINAL_WIDTH": "80", "NO_COLOR": "1"}


def _leaves(cmd, path):  # noqa: ANN001, ANN202
    subs = getattr(cmd, "commands", None)
    if not subs:
        yield path
    for name, sub in sorted((subs or {}).items()):
        yield from _leaves(sub, [*path, name])


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    app = build()
    out = {}
    for path in [[], *_leaves(typer.main.get_command(app), [])]:
        result = CliRunner().invoke(app, [*path, "--help"], env=ENV)
        assert result.exit_code == 0, (path, result.output)
        out[" ".join(path)] = result.output
    return out


def test_the_command_list_is_in_panels_in_the_order_of_the_day(helps):
    from lakectl.cli.argv import COMMANDS

    top = helps[""]
    headings = re.findall(r"╭─ (\w+) ─", top)
    assert headings == ["Options", *PANELS]  # every command declares one of them: no catch-all panel
    order = [m.group(1) for m in re.finditer(r"^│ (\w+) ", top, re.M) if m.group(1) in COMMANDS]
    assert sorted(order) == sorted(COMMANDS)
    assert order.index("generate") < order.index("train") < order.index("grant") < order.index("monitor") < order.index("init")


def test_every_command_has_examples_and_its_exit_codes(helps):
    for path, text in helps.items():
        assert "Examples" in text and "$ lakectl" in text, f"{path or 'lakectl'}: no Examples section"
        codes = text[text.index("Exit codes") :]
        assert re.search(r"^\s+0  success", codes, re.M) and re.search(r"^\s+2  usage", codes, re.M), path
        assert re.search(r"^\s+130  interrupted", codes, re.M), path
    assert re.search(r"^\s+7  SLA breach", helps["monitor check"], re.M)
    assert re.search(r"^\s+8  changes pending", helps["grant plan"], re.M)
    assert not re.search(r"^\s+7  ", helps["ingest"], re.M)  # only the codes a command can end in


def test_metavars_say_what_a_value_is_and_ranges_read_as_people_write_them(helps):
    def metavar(path: str, flag: str) -> str:
        line = next(ln for ln in helps[path].splitlines() if re.search(rf"│ {flag}\b", ln))
        words = line.split(flag, 1)[1].split()
        return words[1] if re.fullmatch(r"-\w", words[0]) else words[0]  # after a short flag

    assert metavar("", "--config") == "FILE"
    assert metavar("monitor check", "--junit") == "FILE" and metavar("monitor report", "--html") == "FILE"
    assert metavar("monitor check", "--kafka-timeout") == "SECONDS"
    for path, text in helps.items():
        assert "<str>" not in text and "<int range>" not in text and "<float range>" not in text, path
        assert "x<=" not in text and "2147483647" not in text, path
        assert "%Y" not in text, path  # a date metavar lists no strptime formats
    assert re.search(r"SECONDS \[0\.1 to 60\]", helps["monitor check"])


def test_a_command_declares_its_panel_and_a_typo_in_it_fails_at_import():
    @command(panel="Operations", examples=[("lakectl x", "does x")], exits=(7,))
    def x() -> None:
        """X."""

    assert x.help_panel == "Operations" and "$ lakectl x" in x.help_epilog and "SLA breach" in x.help_epilog
    with pytest.raises(ValueError, match="Operation"):
        command(panel="Operation")
