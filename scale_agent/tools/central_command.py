"""`scale-agent central ...`: run the central monitor and manage who may use it.

scale-agent central run -c central.toml
scale-agent central user add NAME --role supervisor -c central.toml   # password on stdin
scale-agent central token NAME -c central.toml                        # a new API token
"""

from __future__ import annotations

import getpass
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scale_agent.errors import UsageError

if TYPE_CHECKING:
    import argparse
    from types import FrameType

    from scale_agent.central.store import Store


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `central run`, `central user add` and `central token`."""
    parser = commands.add_parser("central", help="the central monitor for supervisors")
    actions = parser.add_subparsers(dest="action", required=True)
    run = actions.add_parser("run", help="ingest every station's messages and serve the dashboard")
    run.add_argument("-c", "--config", required=True, help="central.toml")
    run.set_defaults(handler=run_central)
    user = actions.add_parser("user", help="add a user or change a password or role")
    user.add_argument("verb", choices=["add"])
    user.add_argument("name")
    user.add_argument(
        "--role", choices=["viewer", "service", "supervisor", "admin"], default="viewer"
    )
    user.add_argument("-c", "--config", required=True, help="central.toml")
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user.set_defaults(handler=add_user)
    token = actions.add_parser("token", help="give a user a new API token (printed once)")
    token.add_argument("name")
    token.add_argument("-c", "--config", required=True, help="central.toml")
    token.set_defaults(handler=new_token)


def _store(config_path: str) -> Store:
    """The monitor's database, migrated (the import waits until a command needs it)."""
    from scale_agent.central.settings import load_central  # noqa: PLC0415
    from scale_agent.central.store import Store  # noqa: PLC0415

    store = Store(load_central(Path(config_path)).database)
    store.upgrade()
    return store


def run_central(args: argparse.Namespace) -> int:
    """Run until SIGTERM or Ctrl-C."""
    from scale_agent.central.service import CentralService  # noqa: PLC0415
    from scale_agent.central.settings import load_central  # noqa: PLC0415

    config = load_central(Path(args.config))
    service = CentralService(config)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        service.stop_serving()

    service.start_ingest()
    print(f"central monitor on http://{config.central.listen}/", file=sys.stderr)
    signal.signal(signal.SIGTERM, stop)
    try:
        service.serve()
    finally:
        service.stop()
        ingest = service.ingest
        print(
            f"central ingest: {ingest.stored} stored, {ingest.duplicates} duplicates dropped, "
            f"{ingest.refused} refused",
            file=sys.stderr,
        )
    return 0


def add_user(args: argparse.Namespace) -> int:
    """Add or update a user; the password comes from stdin or a prompt, never the command line."""
    from scale_agent.central.auth import hash_password  # noqa: PLC0415

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
    if len(password) < 8:  # noqa: PLR2004
        raise UsageError("the password needs at least 8 characters")
    store = _store(args.config)
    store.put_user(args.name, hash_password(password), args.role)
    store.close()
    print(f"user {args.name}: {args.role}")
    return 0


def new_token(args: argparse.Namespace) -> int:
    """Print a new API token for a user (the old one stops working)."""
    from scale_agent.central.auth import new_token as make_token  # noqa: PLC0415
    from scale_agent.central.auth import token_hash  # noqa: PLC0415

    store = _store(args.config)
    token = make_token()
    is_known = store.set_token(args.name, token_hash(token))
    store.close()
    if not is_known:
        raise UsageError(f"no user {args.name!r}: add them first (central user add)")
    print(token)
    return 0
