"""Command line: `python -m gpt_sovits <command>`.

Every command turns a `GptSovitsError` into a one-line message on stderr and exit status 2; it never shows a
traceback for bad input.
"""

import argparse
import sys

from gpt_sovits.errors import GptSovitsError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gpt_sovits", description="GPT-SoVITS-compatible voice cloning.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from gpt_sovits.text import command as phonemize_command

    phonemize = commands.add_parser("phonemize", help="turn text into phones (JSON)")
    phonemize_command.add_arguments(phonemize)
    phonemize.set_defaults(run=phonemize_command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except GptSovitsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
