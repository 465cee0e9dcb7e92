"""How every `brygga` command's parser is made: one help layout (rich-argparse's when it is installed, else plain
argparse laid out the same way), a description, and an epilog of examples.

A command module adds its commands with ``add_command`` (one command) and ``add_group`` (a command with actions,
``brygga quarantine list|show|…``); both give the parser this module's help formatter, so a command registered from
outside the core (``brygga demo``) has the same help as the core's.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from typing import Any

Command = Callable[[argparse.Namespace], int]


def examples_epilog(*lines: str) -> str:
    """An epilog: ``Examples:`` and one indented command a line (kept as written, not filled)."""
    return "Examples:\n" + "\n".join(f"  {line}" for line in lines)


def _paragraphs(lines: list[Any], plain: Callable[[Any], str]) -> list[tuple[bool, list[Any]]]:
    """Help text as paragraphs split at blank lines, each with whether it is kept as written: a heading followed by
    indented lines (the examples, the exit codes). The others are filled to the width."""
    paragraphs: list[list[Any]] = [[]]
    for line in lines:
        if plain(line).strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [(any(re.match(r"\s", plain(line)) for line in p[1:]), p) for p in paragraphs if p]


class PlainHelpFormatter(argparse.HelpFormatter):
    """Without rich-argparse: the same layout in plain argparse."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n\n".join("\n".join(indent + line for line in lines) if verbatim
                             else super(PlainHelpFormatter, self)._fill_text(" ".join(lines), width, indent)
                             for verbatim, lines in _paragraphs(text.splitlines(), str))


try:
    from rich_argparse import RichHelpFormatter
except ImportError:  # rich-argparse comes with Airflow; a core-only install formats help with plain argparse
    HelpFormatter: type[argparse.HelpFormatter] = PlainHelpFormatter
else:
    class RichHelp(RichHelpFormatter):
        """rich-argparse's help, plain without a terminal, laid out as PlainHelpFormatter lays it out. Help texts are
        not read as markup: they show [brackets] as they are."""

        help_markup = False
        text_markup = False

        def _rich_fill_text(self, text: Any, width: int, indent: Any) -> Any:
            from rich.text import Text

            filled = []
            for verbatim, lines in _paragraphs(list(text.split("\n", allow_blank=True)), lambda t: t.plain):
                if verbatim:
                    filled.append(Text("\n").join(indent + line for line in lines))
                else:
                    paragraph = super()._rich_fill_text(Text(" ").join(lines), width, indent)
                    paragraph.rstrip()  # in place
                    filled.append(paragraph)
            return Text("\n\n").join(filled) + "\n\n"

    HelpFormatter = RichHelp


class Parser(argparse.ArgumentParser):
    """Every subcommand's parser formats its help the same way (add_subparsers makes them of this class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def add_command(sub: argparse._SubParsersAction, name: str, *, help: str, description: str,
                examples: Sequence[str] = (), func: Command | None = None) -> argparse.ArgumentParser:
    """``brygga … NAME``: its one-line help (in the list of commands), its description, its examples (the epilog)
    and the function that runs it. The caller adds the arguments."""
    parser = sub.add_parser(name, help=help, description=description,
                            epilog=examples_epilog(*examples) if examples else None, formatter_class=HelpFormatter)
    if func is not None:
        parser.set_defaults(func=func)
    return parser


def add_group(sub: argparse._SubParsersAction, name: str, *, help: str, description: str,
              examples: Sequence[str] = ()) -> argparse._SubParsersAction:
    """``brygga NAME ACTION``: a command whose actions are added to what this returns (``args.action`` names the
    one given)."""
    group = add_command(sub, name, help=help, description=description, examples=examples)
    return group.add_subparsers(dest="action", required=True, metavar="ACTION")
