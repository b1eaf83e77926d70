"""How the command line shows tables and progress: rich on a terminal, plain text anywhere else.

Everything the CLI prints for people goes through `show` (stdout) or `progress` (stderr). On a
terminal, tables get colours and progress a live bar; piped, redirected or captured (CI logs, tests,
`| less`), the same tables come out as plain text, with no colour or other control codes and no
line wrapped, and progress as one line per step. rich's own switches apply: `NO_COLOR` turns colours
off, `FORCE_COLOR` on.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich import box
from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

# Off a terminal nothing wraps or is cut: tables take the width their cells need, up to this.
PLAIN_WIDTH = 10_000

# (step, steps, what was done): `step` of `steps` is done.
Advance = Callable[[int, int, str], None]


def _console(file: TextIO, *, plain: bool = False) -> Console:
    return Console(file=file, width=PLAIN_WIDTH if plain else None, force_terminal=False if plain else None,
                   color_system=None if plain else "auto", soft_wrap=plain, highlight=False, markup=False,
                   emoji=False)


def show(*renderables: RenderableType | str) -> None:
    """Print to stdout (looked up per call: tests and pipes replace it): with colours on a terminal, else
    as `plain_lines`."""
    console = _console(sys.stdout)
    if not console.is_terminal:
        for line in plain_lines(*renderables):
            print(line)
        return
    for renderable in renderables:
        console.print(renderable)


def table(*columns: str, numeric: tuple[str, ...] = ()) -> Table:
    """A table with a header underlined and no frame: reads the same in a terminal and in a log."""
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        grid.add_column(column, justify="right" if column in numeric else "left", no_wrap=True)
    return grid


def plain_lines(*renderables: RenderableType | str) -> list[str]:
    """What `show` prints off a terminal, as lines without trailing blanks (also for reports that end up in
    files and comments)."""
    buffer = io.StringIO()
    console = _console(buffer, plain=True)
    for renderable in renderables:
        console.print(renderable)
    return [line.rstrip() for line in buffer.getvalue().splitlines()]


@contextmanager
def progress(description: str) -> Iterator[Advance]:
    """Report steps on stderr: a live bar on a terminal (gone when done), else one line per step."""
    if not sys.stderr.isatty():
        def line(step: int, steps: int, what: str) -> None:
            print(f"[{step}/{steps}] {what}", file=sys.stderr)

        yield line
        return
    bar = Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[what]}", markup=False), TimeElapsedColumn(),
                   console=Console(stderr=True, highlight=False, markup=False, emoji=False), transient=True)
    task = bar.add_task(description, total=None, what="")
    with bar:
        def advance(step: int, steps: int, what: str) -> None:
            bar.update(task, completed=step, total=steps, what=what)

        yield advance
