"""Review rules: who may decide a level, what a decision does to it, and when its clocks fire.

A review is a list of levels decided in order. Each level names a role and a quorum of distinct
approvers; its clocks remind the approvers, escalate to the next role up and finally expire the
review (the order then waits on hold for ops). Separation of duties: whoever entered the order
never decides it, and one person (or the colleague standing in for them) decides one level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.refusals import conflict, forbidden, invalid
from domain.roles import Role, escalation_target

DECISIONS = ("approve", "reject")


@dataclass
class DecisionState:
    by: str
    decision: str  # approve | reject
    comment: str | None
    at: datetime
    on_behalf_of: str | None = None


@dataclass
class LevelState:
    """A review level as the workflow keeps it; clocks in seconds, None for the defaults."""

    level: int
    role: str
    status: str = "waiting"  # waiting | pending | approved | rejected | cancelled
    escalated: bool = False
    escalated_to: str | None = None
    decisions: list[DecisionState] = field(default_factory=list)
    quorum: int = 1
    remind_every: float | None = None
    escalate_after: float | None = None
    expire_after: float | None = None
    reminder_limit: int | None = None
    # Every reminder and expiry so far, over all rounds (a resume starts a new round).
    reminders: int = 0
    expired: int = 0
    # The running round: when its clocks started and how many reminders it sent.
    round_started_at: datetime | None = None
    round_reminders: int = 0
    # 1, then one more each time an amendment re-opened the level; the decisions it set
    # aside then, which still count for separation of duties on the other levels.
    opening: int = 1
    earlier: list[DecisionState] = field(default_factory=list)

    def deciders(self) -> list[str]:
        """The roles that may decide the level: its own, and the one it escalated to."""
        return [self.role] + ([self.escalated_to] if self.escalated_to else [])

    def approvals(self) -> int:
        return sum(d.decision == "approve" for d in self.decisions)


@dataclass(frozen=True)
class Decider:
    """Who asks to decide: their own roles and those lent to them (role → delegator)."""

    username: str
    roles: list[str]
    delegated_roles: dict[str, str]


@dataclass(frozen=True)
class Verdict:
    """A decision that may be taken: in which role, for whom, and the level's new status."""

    acting_role: str
    on_behalf_of: str | None
    level_status: str  # pending (quorum not reached) | approved | rejected


def acting_role(level: LevelState, decider: Decider) -> tuple[str, str | None]:
    """The role in which ``decider`` may decide ``level`` (its own first, else one lent by a
    delegation, with the delegator); a refusal otherwise."""
    allowed = level.deciders()
    for role in allowed:
        if role in decider.roles:
            return role, None
    for role in allowed:
        if role in decider.delegated_roles:
            return role, decider.delegated_roles[role]
    raise forbidden(f"level {level.level} is decided by the {' or '.join(allowed)} role")


def check_decision(
    levels: list[LevelState],
    level: LevelState,
    decider: Decider,
    *,
    decision: str,
    comment: str | None,
    created_by: str,
) -> Verdict:
    """Whether ``decider`` may take ``decision`` on ``level`` now, and what it does.

    Separation of duties holds through delegations too: neither the caller nor the one it
    stands in for may have entered the order or decided any level of it.
    """
    if decision not in DECISIONS:
        raise invalid("decision must be 'approve' or 'reject'")
    if decision == "reject" and not (comment or "").strip():
        raise invalid("a rejection needs a comment")
    if level.status != "pending":
        raise conflict(f"level {level.level} is already decided")
    role, on_behalf_of = acting_role(level, decider)
    people = {decider.username} | ({on_behalf_of} if on_behalf_of else set())
    if created_by in people:
        raise forbidden("the person who entered an order may not approve it")
    for other in levels:
        # Who decided this level before an amendment re-opened it may decide it again.
        taken = other.decisions + (other.earlier if other is not level else [])
        for earlier in taken:
            both = people & {earlier.by, earlier.on_behalf_of}
            if both:
                who = " for ".join(sorted(both))
                raise forbidden(
                    f"{who} already decided level {other.level}; one person decides one level"
                )
    if decision == "reject":
        outcome = "rejected"
    else:
        # A quorum level stays open until enough distinct approvers approved.
        outcome = "approved" if level.approvals() + 1 >= level.quorum else "pending"
    return Verdict(role, on_behalf_of, outcome)


# ---------------------------------------------------------------------------- clocks


@dataclass(frozen=True)
class ClockDefaults:
    """The deployment's clocks for levels the policy gives none, in seconds."""

    remind_after: float
    escalate_after: float
    expire_after: float | None
    reminder_limit: int


@dataclass(frozen=True)
class Firing:
    kind: str  # reminder | escalation | expiry
    after: float  # seconds since the round started


def next_firing(level: LevelState, defaults: ClockDefaults) -> Firing | None:
    """The clock that fires next in the level's running round, or None when all are spent.

    Reminders repeat every ``remind_every`` up to the reminder limit, so a review left
    waiting sends a bounded number of them; escalation fires once for the whole review;
    expiry ends the round (a resume starts a new one). Ties go to the reminder.
    """
    remind_every = level.remind_every or defaults.remind_after
    escalate_after = level.escalate_after or defaults.escalate_after
    expire_after = level.expire_after
    if expire_after is None and defaults.expire_after is not None:
        # The default expiry never comes before the level's own escalation.
        expire_after = max(defaults.expire_after, escalate_after)
    limit = defaults.reminder_limit if level.reminder_limit is None else level.reminder_limit
    due: list[Firing] = []
    if level.round_reminders < limit:
        due.append(Firing("reminder", remind_every * (level.round_reminders + 1)))
    if not level.escalated:
        due.append(Firing("escalation", escalate_after))
    if expire_after is not None:
        due.append(Firing("expiry", expire_after))
    return min(due, key=lambda firing: firing.after) if due else None


def escalate(level: LevelState) -> None:
    level.escalated = True
    level.escalated_to = escalation_target(Role(level.role)).value
