"""What the requester and the audit thread are told about how a grant failed or ended."""

from __future__ import annotations

from typing import Any

from services.notifier.domain.audit_messages import audit_step_message
from services.notifier.domain.context import NotifyContext
from services.notifier.domain.request_view import RequestView, fold
from services.notifier.domain.requester_message import requester_message
from shared.contracts.events import GrantExpired, GrantFailed, GrantRevoked, Message
from tests.notifier import notifier_factories as f

CTX = NotifyContext(admin_url=f.ADMIN_URL, channels=(f.AUDIT_CHANNEL,))
OTHER_REQUEST = "01JDQ5B7C8D9E0F1G2H3J4K5MN"
PENDING = (f.submitted(), f.approval_requested(), f.approved())
ACTIVE = (*PENDING, f.applied())


def _view(*events: Message) -> RequestView:
    view = RequestView(request_id=f.REQUEST_ID)
    for event in events:
        view = fold(view, event)
    return view


def _failed(*, retryable: bool, code: str, message: str, status: int | None) -> GrantFailed:
    return f.grant_failed().model_copy(
        update={
            "retryable": retryable,
            "error_code": code,
            "message": message,
            "status_code": status,
        }
    )


RETRYABLE = _failed(
    retryable=True,
    code="retries_exhausted",
    message="Tailscale did not accept the change in time (6 attempts): 429.",
    status=429,
)
PERMANENT = _failed(
    retryable=False,
    code="tailscale_rejected",
    message="Tailscale refused the change: 400 attribute value has the wrong type.",
    status=400,
)


def _continued(event: GrantRevoked | GrantExpired) -> GrantRevoked | GrantExpired:
    return event.model_copy(update={"continues_under": OTHER_REQUEST, "continues_until": f.at(180)})


def _text(events: tuple[Message, ...]) -> str:
    return requester_message(_view(*events), CTX).text


def test_grant_outcomes_golden() -> None:
    cases: dict[str, tuple[Message, ...]] = {
        "failed_retryable": (*PENDING, RETRYABLE),
        "failed_permanent": (*PENDING, PERMANENT),
        "revoked_access_continues": (*ACTIVE, _continued(f.revoked())),
        "expired_access_continues": (*ACTIVE, _continued(f.grant_expired())),
    }
    rendered: dict[str, Any] = {}
    for name, events in cases.items():
        view = _view(*events)
        rendered[f"requester_{name}"] = requester_message(view, CTX).as_json()
        step = audit_step_message(events[-1], view)
        assert step is not None
        rendered[f"audit_step_{name}"] = step.as_json()
    f.assert_golden("grant_outcomes", rendered)


def test_only_a_retryable_failure_tells_the_requester_to_try_again() -> None:
    assert "Try again in a few minutes" in _text((*PENDING, RETRYABLE))
    permanent = _text((*PENDING, PERMANENT))
    assert "Try again" not in permanent
    assert "until an admin fixes the cause" in permanent


def test_an_ended_grant_says_which_request_keeps_the_access() -> None:
    for ended in (f.revoked(), f.grant_expired()):
        plain = _text((*ACTIVE, ended))
        assert OTHER_REQUEST not in plain
        continued = _continued(ended)
        assert OTHER_REQUEST in _text((*ACTIVE, continued))
        step = audit_step_message(continued, _view(*ACTIVE, continued))
        assert step is not None
        assert OTHER_REQUEST in step.text
        assert "attribute removed" not in step.text
