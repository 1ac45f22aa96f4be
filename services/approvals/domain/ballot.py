"""Counting decisions: who counts, once each, and when a quorum or a deny decides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.approvals.domain.record import Vote
from shared.contracts.events import Decision, Person, RefusalFacts, RefusalReason, RefusalWording
from shared.profiles import Profile, SelfApproval


@dataclass(frozen=True, slots=True)
class Ballot:
    """The rules and votes of one decision (a request, or an extension)."""

    subject: str  # what is decided, for messages: "Production"
    requester: str
    eligible: list[str]
    approvals_required: int
    self_approval: SelfApproval
    votes: list[Vote]
    current: Profile | None  # the profile as profiles.yaml lists it now (None: removed)
    groups: Mapping[str, list[str]] = field(default_factory=dict)  # members when opened
    fallback: list[str] = field(default_factory=list)  # escalate_to's people when opened
    escalated: bool = False  # the fallback may decide only once the request escalated

    def refusal(self, decider: Person) -> tuple[RefusalReason, RefusalFacts] | None:
        """Why this decider's click does not count, or None when it does."""
        email = decider.email
        if email == self.requester and self.self_approval is SelfApproval.NEVER:
            return (
                RefusalReason.SELF_APPROVAL_NOT_ALLOWED,
                RefusalFacts(wording=RefusalWording.OWN_REQUEST, subject=self.subject),
            )
        if not self._eligible(email):
            return RefusalReason.NOT_ELIGIBLE, RefusalFacts(
                wording=RefusalWording.NOT_APPROVER, subject=self.subject
            )
        if any(v.approver.email == email for v in self.votes):
            return RefusalReason.ALREADY_DECIDED, RefusalFacts(
                wording=RefusalWording.ALREADY_DECIDED
            )
        return None

    def _eligible(self, email: str) -> bool:
        """Eligible when the request was opened and still eligible now: the snapshot fixes
        who was asked, and removing someone (or their group) from profiles.yaml takes their
        right away. Group membership is the one resolved when the request was opened.
        Fallback approvers (`escalate_to`) count only once the request escalated."""
        now = self.current
        listed = email in self.eligible or (self.escalated and email in self.fallback)
        return listed and bool(
            now
            and now.may_decide(
                email, requester=self.requester, groups=self.groups, escalated=self.escalated
            )
        )

    def approvers(self) -> list[Person]:
        """Who approved, in the order they did."""
        return [v.approver for v in self.votes if v.decision is Decision.APPROVE]


def outcome(votes: list[Vote], approvals_required: int) -> Decision | None:
    """One deny denies; `approvals_required` distinct approvals approve; else undecided."""
    if any(v.decision is Decision.DENY for v in votes):
        return Decision.DENY
    approvers = {v.approver.email for v in votes if v.decision is Decision.APPROVE}
    return Decision.APPROVE if len(approvers) >= approvals_required else None
