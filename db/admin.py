"""``python -m db.admin create-admin --username NAME``: the first admin of a deployment that
starts without demo data. The password comes from ``ORDERFLOW_ADMIN_PASSWORD`` or a prompt,
never the command line (where other users and the shell history would see it).

When an active admin exists already, nothing is created: the command succeeds if that admin
is the one named (running a deployment step twice is harmless) and fails otherwise, since
further admins are made through ``POST /api/v1/users`` by a person the audit log names.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config import get_settings
from db.audit import append_audit
from db.models import User
from db.session import create_engine, create_session_factory
from domain.passwords import hash_password, password_problems
from domain.roles import Role

PASSWORD_VARIABLE = "ORDERFLOW_ADMIN_PASSWORD"
# The actor of the audit row: no user stands behind the bootstrap.
BOOTSTRAP_ACTOR = "bootstrap"


class BootstrapRefused(Exception):
    """Why no admin was created, in one sentence for the operator."""


def read_password(username: str) -> str:
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        if not sys.stdin.isatty():
            raise BootstrapRefused(f"set {PASSWORD_VARIABLE} or run the command in a terminal")
        password = getpass.getpass(f"Password for {username}: ")
        if getpass.getpass("The same password again: ") != password:
            raise BootstrapRefused("the two passwords differ")
    problems = password_problems(password, username)
    if problems:
        raise BootstrapRefused("the password is too weak: " + "; ".join(problems))
    return password


async def create_admin(session: AsyncSession, username: str, full_name: str, password: str) -> bool:
    """Create the admin and audit it; False when the named admin exists already. The caller
    commits."""
    admins = list(
        await session.scalars(
            select(User.username).where(
                User.roles.contains([Role.ADMIN.value]), User.active.is_(True)
            )
        )
    )
    if username in admins:
        return False
    if admins:
        raise BootstrapRefused(
            f"an admin exists already ({', '.join(sorted(admins))}); "
            "sign in as them and add users through the API"
        )
    if await session.scalar(select(User.id).where(User.username == username)):
        raise BootstrapRefused(f"a user named {username} exists already and is not an admin")
    session.add(
        User(
            username=username,
            full_name=full_name,
            password_hash=hash_password(password),
            roles=[Role.ADMIN.value],
            active=True,
        )
    )
    await session.flush()
    await append_audit(
        session,
        kind="user",
        actor=BOOTSTRAP_ACTOR,
        order_no=None,
        payload={"action": "create", "key": username, "changes": {"roles": ["admin"]}},
        at=datetime.now(UTC),
    )
    return True


async def _run(username: str, full_name: str) -> None:
    password = read_password(username)
    engine = create_engine(get_settings().sqlalchemy_url)
    try:
        async with create_session_factory(engine).begin() as session:
            created = await create_admin(session, username, full_name, password)
    finally:
        await engine.dispose()
    print(f"admin {username}: " + ("created" if created else "exists already, nothing changed"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create the first admin")
    create.add_argument("--username", required=True)
    create.add_argument("--full-name", default="Administrator")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_run(args.username, args.full_name))
    except BootstrapRefused as refused:
        print(f"no admin created: {refused}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
