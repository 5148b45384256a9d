"""``mecopt solvers``: list the solvers and whether they can run here."""

from __future__ import annotations

import argparse

from mecopt.solve import SOLVERS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("solvers", help="list the solvers and their versions")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(f"{'name':<16}{'kind':<11}{'available':<11}{'version':<34}description")
    for name in SOLVERS.names():
        s = SOLVERS.get(name)
        ok = s.available()
        version = s.version() if ok else "-"
        print(f"{name:<16}{s.kind:<11}{'yes' if ok else 'no':<11}{version:<34}{s.description}")
    return 0
