"""In-app and e-mail notifications, and those an order writes with each change of its own,
through the real worker, database and network.

Notices are written to the outbox the way every activity writes them, inside a transaction;
the session's delivery workflows send e-mail to the session's SMTP server.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from temporalio.client import Client

from db.models import Notification, User
from tests.factories import World
from tests.mail import Mailbox
from tests.notification_helpers import emit, order_notice, settled_rows
from workflows.messages import workflow_id_for


async def inbox(world: World, who: str, **params: Any) -> dict[str, Any]:
    response = await world.api.get(
        "/api/v1/notifications", params=params, headers=world[who].headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def notices_about(
    world: World, who: str, order_no: str, event: str | None = None
) -> list[dict[str, Any]]:
    """The person's notices about the order (of one event, if given)."""
    page = await inbox(world, who, limit=200)
    return [n for n in page["data"] if n["order_no"] == order_no and event in (None, n["event"])]


async def rows_with_key(world: World, prefix: str) -> int:
    async with world.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.key.startswith(prefix))
        )
    return int(count or 0)


# ------------------------------------------------------------------ in-app


async def test_in_app_notices_reach_named_users_roles_and_the_orders_customer(
    world: World,
) -> None:
    order_no = await world.new_order()
    notice = order_notice(
        order_no,
        data={"tracking_no": "BC0001", "carrier": "builtin"},
        recipients=[world["sales"].username, world["sup"].username],
        roles=["manager"],
        order_customer=True,
        exclude=[world["sup"].username],
    )
    await emit(world, notice)

    for who in ("sales", "mgr", "mgr2", "customer"):
        [seen] = await notices_about(world, who, order_no, "shipped")
        assert seen["event"] == "shipped"
        assert seen["subject"] == f"{order_no}: shipped"
        assert seen["body"] == f"Your order {order_no} is shipped."
        assert seen["data"] == {"tracking_no": "BC0001", "carrier": "builtin"}
        assert seen["read_at"] is None
    # Excluded, not addressed, or the customer of another order.
    for who in ("sup", "sup2", "ops", "log", "stranger"):
        assert await notices_about(world, who, order_no, "shipped") == []

    # The same event again (a retried activity) adds nothing anywhere.
    rows = await rows_with_key(world, notice.key)
    await emit(world, notice)
    assert await rows_with_key(world, notice.key) == rows
    assert len(await notices_about(world, "customer", order_no, "shipped")) == 1


async def test_users_page_through_and_mark_read_only_their_own_notices(world: World) -> None:
    order_no = await world.new_order()
    customer = [world["customer"].username]
    await emit(world, order_notice(order_no, "approved", recipients=customer))
    await emit(world, order_notice(order_no, "shipped", recipients=customer))

    first = await inbox(world, "customer", limit=1)
    [newest] = first["data"]
    assert newest["event"] == "shipped"
    assert first["next_cursor"]
    second = await inbox(world, "customer", limit=1, cursor=first["next_cursor"])
    [older] = second["data"]
    assert older["event"] == "approved"
    assert second["next_cursor"] is None

    read = await world.api.post(
        f"/api/v1/notifications/{older['id']}/read", headers=world["customer"].headers
    )
    assert read.status_code == 200, read.text
    read_at = read.json()["read_at"]
    assert read_at
    again = await world.api.post(
        f"/api/v1/notifications/{older['id']}/read", headers=world["customer"].headers
    )
    assert again.status_code == 200
    assert again.json()["read_at"] == read_at
    unread = await inbox(world, "customer", unread="true")
    assert [n["id"] for n in unread["data"]] == [newest["id"]]

    # Someone else's notice is not there to read, and stays unread.
    theirs = await world.api.post(
        f"/api/v1/notifications/{newest['id']}/read", headers=world["stranger"].headers
    )
    assert theirs.status_code == 404
    assert theirs.json()["error"] == "NotFound"
    assert (await inbox(world, "customer", unread="true"))["data"][0]["id"] == newest["id"]
    assert (await inbox(world, "stranger"))["data"] == []


# ------------------------------------------------------------------ e-mail


async def test_email_goes_to_each_recipient_with_an_address(world: World, mailbox: Mailbox) -> None:
    emails = {
        "sales": f"sales-{world.tag}@example.test",
        "customer": f"buyer-{world.tag}@example.test",
    }
    async with world.sessions.begin() as session:
        for who, email in emails.items():
            await session.execute(
                update(User).where(User.username == world[who].username).values(email=email)
            )
    order_no = await world.new_order()
    # The manager has no address: an in-app notice only.
    notice = order_notice(
        order_no,
        "delivered",
        order_customer=True,
        recipients=[world["sales"].username, world["mgr"].username],
    )
    await emit(world, notice)
    rows = await settled_rows(world, notice.key, "email")

    assert sorted((r.target, r.status, r.attempts) for r in rows) == sorted(
        (email, "sent", 1) for email in emails.values()
    )
    by_address = {address: mailbox.to(address) for address in emails.values()}
    assert all(len(messages) == 1 for messages in by_address.values())
    for [message] in by_address.values():
        assert message["From"] == "orders@orderflow.example.test"
        assert message["Subject"] == f"{order_no}: delivered"
        assert message["X-Orderflow-Event"] == "delivered"
        assert message.get_content().strip() == f"Your order {order_no} is delivered."
        assert message["Message-ID"].endswith("@orderflow.example.test>")
    assert len({m["Message-ID"] for [m] in by_address.values()}) == 2
    assert len(await notices_about(world, "mgr", order_no)) == 1


# ------------------------------------------------------------------ from an order


async def test_an_order_tells_people_in_the_transaction_of_its_change(
    world: World, temporal_client: Client
) -> None:
    """The approval notice is in the creator's inbox the moment the order reads approved,
    and the order's own history holds no delivery work: that runs elsewhere."""
    order_no = await world.new_order()
    decided = await world.approve_levels(order_no, ["sup"])
    assert decided["status"] in ("APPROVED", "IN_PRODUCTION")
    [approved] = await notices_about(world, "sales", order_no, "approved")
    assert approved["subject"] == f"{order_no}: approved at every review level"
    asked = [n["event"] for n in await notices_about(world, "sup", order_no)]
    assert asked == ["approval_requested"]

    history = await temporal_client.get_workflow_handle(workflow_id_for(order_no)).fetch_history()
    kinds = {event.WhichOneof("attributes") for event in history.events}
    assert "start_child_workflow_execution_initiated_event_attributes" not in kinds
    scheduled = [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    ]
    assert not [name for name in scheduled if "deliver" in name or "notify" in name]
