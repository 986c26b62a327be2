"""Tables that fit the terminal without cutting a value: the one place the CLI lays out rows for people.

A value is never cut and a word never split. When the natural widths do not fit, in this order: text
columns wrap between words (never inside one), columns with a short form take it (a timestamp without its
year and seconds), low-value columns are left out, and when even that does not fit every row is printed
as a vertical record (psql's expanded display). A footer says what was shortened or left out and that
`-o wide` shows everything. `-o wide` prints every column at its natural width.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text

GAP = 2  # spaces between two columns
WIDE_HINT = "-o wide shows all"


@dataclass(frozen=True)
class Column:
    """One column: its header, how its values may bend, and how much it is worth keeping.

    wrap: the values are text that may wrap between words (never inside a word).
    drop: None: always shown; else the order columns are left out in when space is short (1 first).
    short: a shorter form of a value (e.g. a timestamp without its year); used before dropping anything.
    number: right-aligned."""

    name: str
    wrap: bool = False
    drop: int | None = None
    short: Callable[[str], str] | None = None
    number: bool = False
    style: str | None = None


Cell = str | Text | None


@dataclass
class Layout:
    """What `plan` decided: the columns shown (indices), their widths, and what was given up."""

    shown: list[int]
    widths: list[int]
    shortened: list[int]
    dropped: list[int]
    vertical: bool = False


def _text(cell: Cell) -> Text:
    if cell is None:
        return Text("")
    return cell if isinstance(cell, Text) else Text(str(cell))


def _longest_word(text: str) -> int:
    return max((cell_len(w) for line in text.splitlines() for w in line.split()), default=0)


def _natural(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)


def plan(columns: Sequence[Column], rows: Sequence[Sequence[Cell]], width: int) -> Layout:
    """The layout of `rows` in `width` cells (see the module's docstring for the order of concessions)."""
    plain = [[_text(c).plain for c in row] for row in rows]
    short_plain = [[columns[i].short(v) if columns[i].short and v else v for i, v in enumerate(row)] for row in plain]
    n = len(columns)

    def need(i: int, shortened: bool) -> tuple[int, int]:
        """(natural, minimum) width of column i."""
        values = [(short_plain if shortened else plain)[r][i] for r in range(len(rows))]
        head = cell_len(columns[i].name)
        natural = max([head] + [_natural(v) for v in values])
        if not columns[i].wrap:
            return natural, natural
        return natural, max([_longest_word(columns[i].name)] + [_longest_word(v) for v in values] + [1])

    shortened: list[int] = []
    shown = list(range(n))
    dropped: list[int] = []

    def total(kind: int) -> int:
        sizes = [need(i, i in shortened)[kind] for i in shown]
        return sum(sizes) + GAP * (len(shown) - 1)

    if total(0) > width:  # a column with no value in any row says nothing: it goes first, unmentioned
        for i in [i for i in range(n) if not any(row[i].strip() for row in plain)]:
            shown.remove(i)
    if total(1) > width:  # wrapping text between words is not enough: shorten what has a short form, then drop
        shortened = [i for i in range(n) if columns[i].short]
        droppable = sorted((i for i in shown if columns[i].drop is not None), key=lambda i: (columns[i].drop, -i))
        while total(1) > width and droppable:
            i = droppable.pop(0)
            shown.remove(i)
            dropped.append(i)
        if total(1) > width:  # even the essential columns do not fit side by side
            return Layout(list(range(n)), [], [], [], vertical=True)
        for i in list(reversed(dropped)):  # a column dropped on the way that fits after all comes back
            shown.append(i)
            shown.sort()
            if total(1) > width:
                shown.remove(i)
            else:
                dropped.remove(i)
        keep, shortened = shortened, []  # and the long forms, if everything fits with them after all
        if total(1) > width:
            shortened = keep
    natural = {i: need(i, i in shortened)[0] for i in shown}
    minimum = {i: need(i, i in shortened)[1] for i in shown}
    widths = dict(natural)
    spare = width - (sum(minimum.values()) + GAP * (len(shown) - 1))
    if sum(natural.values()) + GAP * (len(shown) - 1) > width:
        # the wrapping columns share what is left after every column has its minimum
        wrapping = [i for i in shown if natural[i] > minimum[i]]
        widths = dict(minimum)
        while spare > 0 and wrapping:
            for i in list(wrapping):
                if spare == 0:
                    break
                if widths[i] < natural[i]:
                    widths[i] += 1
                    spare -= 1
                else:
                    wrapping.remove(i)
    return Layout(shown, [widths[i] for i in shown], [i for i in shortened if i in shown], dropped)


def print_table(
    console: Any,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    *,
    title: str | None = None,
    wide: bool = False,
    row_styles: Sequence[str | None] | None = None,
    caption: str | None = None,
) -> Layout:
    """Print `rows` as a table fitted to the console (every column at its natural width when `wide`)."""
    from rich import box
    from rich.table import Table

    width = 10**6 if wide else console.width
    layout = plan(columns, rows, width) if rows else Layout(list(range(len(columns))), [], [], [])
    if layout.vertical:
        _print_records(console, columns, rows, title=title, row_styles=row_styles)
        console.print(Text(f"one record per row: the table does not fit {width} columns; -o wide prints it as one", style="dim"))
        return layout
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold cyan",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, GAP - 1, 0, 0),  # with the box's own one-space divider: GAP cells between columns
        caption=caption,
        caption_justify="left",
    )
    for k, i in enumerate(layout.shown):
        c = columns[i]
        w = layout.widths[k] if layout.widths else None
        table.add_column(
            c.name,
            justify="right" if c.number else "left",
            no_wrap=not c.wrap,
            overflow="fold",
            width=w,
            min_width=w,
            max_width=w,
            style=c.style,
        )
    for r, row in enumerate(rows):
        cells = []
        for i in layout.shown:
            cell = _text(row[i])
            if i in layout.shortened and columns[i].short and cell.plain:
                cell = Text(columns[i].short(cell.plain), style=cell.style)
            cells.append(cell)
        table.add_row(*cells, style=row_styles[r] if row_styles else None)
    console.print(table)
    notes = []
    if layout.shortened:
        notes.append(f"shortened: {', '.join(columns[i].name for i in layout.shortened)}")
    if layout.dropped:
        notes.append(f"left out: {', '.join(columns[i].name for i in layout.dropped)}")
    if notes:
        console.print(Text(f"{'; '.join(notes)} ({WIDE_HINT})", style="dim"))
    return layout


def print_pairs(console: Any, pairs: Sequence[tuple[str, Cell]], *, title: Text | str | None = None, wide: bool = False) -> None:
    """A record as `name  value` lines (a job's summary): values wrap between words; a word longer than the
    room beside the names goes on a line of its own, whole."""
    if title:
        console.print(title if isinstance(title, Text) else Text(title, style="bold"))
    if not pairs:
        return
    label = max(cell_len(name) for name, _ in pairs)
    _print_block(console, [(name, _text(value)) for name, value in pairs], label, 10**6 if wide else console.width, None)


def _print_block(console: Any, pairs: list[tuple[str, Text]], label: int, width: int, style: str | None) -> None:
    room = max(1, width - label - GAP)
    grid = _grid(label, room)
    for name, value in pairs:
        if _longest_word(value.plain) <= room:
            grid.add_row(name, value, style=style)
            continue
        grid.add_row(name, "", style=style)
        console.print(grid)
        console.print(value, style=style, overflow="fold")
        grid = _grid(label, room)
    if grid.row_count:
        console.print(grid)


def _print_records(
    console: Any, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], *, title: str | None, row_styles: Sequence[str | None] | None
) -> None:
    """psql's expanded display: one block per row, `name  value`, values wrapped between words."""
    if title:
        console.print(Text(title, style="bold"))
    label = max(cell_len(c.name) for c in columns)
    width = console.width
    for r, row in enumerate(rows):
        head = f"-[ {r + 1} ]"
        console.print(Text(head + "-" * max(0, min(width, label + 20) - len(head)), style="dim"))
        style = row_styles[r] if row_styles else None
        _print_block(console, [(c.name, _text(row[i])) for i, c in enumerate(columns)], label, width, style)


def _grid(label: int, room: int) -> Any:
    from rich.table import Table

    grid = Table.grid(padding=(0, GAP, 0, 0))
    grid.add_column(style="bold cyan", no_wrap=True, width=label)
    grid.add_column(overflow="fold", max_width=room)
    return grid
