"""The ``ganwatch`` command: argument parsing (``parser``) and one function per command
(``commands``), each a thin call into the library."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ganwatch.cli import commands
from ganwatch.cli.parser import build_parser

__all__ = ["build_parser", "main"]

COMMANDS = {
    "train": commands.cmd_train,
    "resume": commands.cmd_resume,
    "runs": commands.cmd_runs,
    "show": commands.cmd_show,
    "export": commands.cmd_export,
    "sweep": commands.cmd_sweep,
    "dashboard": commands.cmd_dashboard,
    "report": commands.cmd_report,
    "metrics": commands.cmd_metrics,
    "diagnose": commands.cmd_diagnose,
    "reproduce": commands.cmd_reproduce,
    "classifier": commands.cmd_classifier,
    "validate": commands.cmd_validate,
}


def main(argv: Sequence[str] | None = None) -> int:
    import sqlite3

    from ganwatch.store import StoreVersionError

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:
        # `ganwatch ... | head`: the reader left. Nothing more can be said on stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (sqlite3.DatabaseError, StoreVersionError) as exc:
        store = getattr(args, "store", None) or "the run store"
        print(f"ganwatch: error: {store} could not be read: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "ganwatch: interrupted; what was recorded is kept "
            "(continue with 'ganwatch resume RUN')",
            file=sys.stderr,
        )
        return 130
    except (ValueError, KeyError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"ganwatch: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
