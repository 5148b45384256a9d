"""The ``mecopt`` command line.

Each sub-command lives in its own module ``mecopt.cli.<name>_cmd`` that exposes
``register(subparsers)``; the module registers its parser and sets ``func`` (a callable
taking the parsed ``argparse.Namespace`` and returning an exit code) with
``parser.set_defaults(func=...)``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from mecopt.errors import MecoptError

#: Sub-command modules, in the order ``mecopt --help`` lists them.
COMMAND_MODULES = (
    "solve_cmd", "compare_cmd", "demo_cmd", "solvers_cmd", "profile_cmd", "bench_cmd",
    "variants_cmd",
    "longterm_cmd", "train_cmd",
    "instance_cmd", "export_model_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level argument parser with every sub-command registered."""
    from mecopt._version import __version__

    parser = argparse.ArgumentParser(
        prog="mecopt",
        description="Exact and heuristic LLM query offloading in mobile edge computing.",
    )
    parser.add_argument("--version", action="version", version=f"mecopt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"mecopt.cli.{name}")
        except ModuleNotFoundError as exc:  # a sub-command not shipped in this build
            if exc.name != f"mecopt.cli.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code.

    Errors the user can fix (bad input, unknown names, missing optional extras) are
    printed as one line on standard error with exit code 2, never as a traceback; so are
    operating-system errors (a full disk, a file in place of a folder). Anything
    else is an internal error: one line naming the exception, exit code 3 (set
    ``MECOPT_DEBUG=1`` to see the traceback).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (MecoptError, ValueError, FileNotFoundError, IsADirectoryError, KeyError,
            PermissionError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"mecopt {args.command}: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into a closed reader (e.g. head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # a full disk, a file where a folder should be, ...: not a defect
        print(f"mecopt {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mecopt {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("MECOPT_DEBUG"):
            raise
        print(f"mecopt {args.command}: internal error: {type(exc).__name__}: {exc} "
              "(a defect of mecopt; MECOPT_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
