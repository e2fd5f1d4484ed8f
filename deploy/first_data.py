"""The data deploy-check's orders need, made the way a new deployment makes it: the first admin
with ``python -m db.admin create-admin`` (the password from ``ORDERFLOW_ADMIN_PASSWORD``), then
everything else through the API, signed in as the people whose job it is. Nothing is written
to the database directly.

- The admin adds the people (one per role the orders need, each approver level a person of its
  own, and the customer's user), the customer, a production line and two products with their
  routing and price (creating a product puts its price on the price list from today).
- Logistics receives the stock the orders ship from (``POST /api/v1/stock/receipts``): goods
  are received by whoever receives them, and the receipt endpoint admits logistics and ops.

The SKUs are the chaos scripts' own (``bench.setup_data``), so :mod:`chaos.scripts` drives the
orders unchanged.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from bench.setup_data import LINE_CODE, MADE_TO_ORDER_SKU, ROUTING, STOCK_SKU
from chaos.client import API, ChaosClient
from db.admin import PASSWORD_VARIABLE

ADMIN = "deploy-admin"
#: role -> username: one person per role the orders need; the creator never approves and each
#: review level is decided by its own approver, so separation of duties holds.
STAFF = {
    role: f"deploy-{role}"
    for role in ("sales", "supervisor", "manager", "director", "production", "logistics", "ops")
}
CUSTOMER_USER = "deploy-customer"
CUSTOMER_CODE = "DEPLOY-CHECK"
# The orders total 172,000.00; a limit far above it keeps the credit check out of the way.
CREDIT_LIMIT = "10000000.00"
UNIT_PRICE = "100.00"  # bench.actors.QUANTITY_FOR_LEVELS is computed for this price
LINE_UNITS_PER_HOUR = "10.00"


class FirstDataFailure(RuntimeError):
    """A step of the set-up was refused; the message names the request and the answer."""


@dataclass(frozen=True)
class FirstData:
    customer_id: int
    usernames: dict[str, str]  # role (and "customer") -> username
    password: str
    stock_on_hand: int  # of STOCK_SKU after the receipt


def new_password() -> str:
    """One password for every person of the run, new each run (it never leaves the run)."""
    return "dc-" + secrets.token_urlsafe(18)


def create_first_admin(env: dict[str, str], password: str, log: Path) -> bool:
    """``python -m db.admin create-admin``, the password passed as an operator would."""
    with log.open("ab") as out:
        result = subprocess.run(
            [sys.executable, "-m", "db.admin", "create-admin", "--username", ADMIN],
            env={**env, PASSWORD_VARIABLE: password},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            check=False,
        )
    return result.returncode == 0


async def _created(api: ChaosClient, as_role: str, path: str, body: dict[str, Any]) -> Any:
    return await _posted(api, as_role, path, body, {})


async def _posted(
    api: ChaosClient, as_role: str, path: str, body: dict[str, Any], headers: dict[str, str]
) -> Any:
    response: httpx.Response = await api.send(
        f"set-up {path}", "POST", f"{API}{path}", role=as_role, json=body, headers=headers
    )
    if response.status_code != 201:
        raise FirstDataFailure(
            f"POST {path} as {api.usernames[as_role]} answered {response.status_code}: "
            f"{response.text}"
        )
    return response.json()


async def create_through_api(
    api: ChaosClient, password: str, run_id: str, receive_units: int
) -> FirstData:
    """Everything the orders need, through the API; ``create_first_admin`` ran before."""
    await api.sign_in({"admin": ADMIN}, password)
    customer = await _created(
        api,
        "admin",
        "/customers",
        {
            "code": CUSTOMER_CODE,
            "name": "Deploy-check customer",
            "credit_limit": CREDIT_LIMIT,
            "notification_email": "orders@deploy-check.test",
        },
    )
    people = [(username, role, None) for role, username in STAFF.items()]
    people.append((CUSTOMER_USER, "customer", customer["id"]))
    for username, role, customer_id in people:
        body = {"username": username, "full_name": f"Deploy-check {role}", "password": password}
        await _created(
            api, "admin", "/users", {**body, "roles": [role], "customer_id": customer_id}
        )
    usernames = {**STAFF, "customer": CUSTOMER_USER}
    await api.sign_in(usernames, password)

    await _created(
        api,
        "admin",
        "/production-lines",
        {"code": LINE_CODE, "name": "Deploy-check line", "units_per_hour": LINE_UNITS_PER_HOUR},
    )
    routing = [{"name": name, "minutes_per_unit": f"{minutes:.2f}"} for name, minutes in ROUTING]
    for sku, name in [(STOCK_SKU, "from stock"), (MADE_TO_ORDER_SKU, "made to order")]:
        await _created(
            api,
            "admin",
            "/products",
            {
                "sku": sku,
                "name": f"Deploy-check product {name}",
                "unit_price": UNIT_PRICE,
                "line_codes": [LINE_CODE],
                "routing": routing,
            },
        )
        await _price_in_effect(api, sku)

    receipt = await _posted(
        api,
        "logistics",
        "/stock/receipts",
        {"sku": STOCK_SKU, "quantity": receive_units, "reference": f"deploy-check {run_id}"},
        {"Idempotency-Key": f"deploy-check-{run_id}-receipt"},
    )
    on_hand = int(receipt["stock"]["stock_on_hand"])
    if on_hand != receive_units:
        raise FirstDataFailure(
            f"received {receive_units} units of {STOCK_SKU}, on hand is {on_hand}"
        )
    return FirstData(customer["id"], usernames, password, on_hand)


async def _price_in_effect(api: ChaosClient, sku: str) -> None:
    """The product's price is on the dated price list (what validation prices orders by)."""
    path = f"{API}/products/{sku}/prices"
    response = await api.send("set-up prices", "GET", path, role="admin")
    prices = response.json()["data"] if response.status_code == 200 else []
    if not any(Decimal(price["unit_price"]) == Decimal(UNIT_PRICE) for price in prices):
        raise FirstDataFailure(f"GET {path} answered {response.status_code}: {response.text}")
