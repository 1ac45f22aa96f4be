"""The request form: shortcut -> modal -> profile fields -> device search -> submission."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import structlog

from services.intake.domain.action_modals import extend_modal, extend_offer
from services.intake.domain.again import again_form
from services.intake.domain.approvers import (
    MAX_APPROVER_LOOKUPS,
    ApproverCandidate,
    fits_radio_buttons,
    offers_approver_choice,
)
from services.intake.domain.device_options import device_option_groups, suggestion_response
from services.intake.domain.form_state import RequestFormState
from services.intake.domain.interactions import (
    ApproverSuggestion,
    ButtonPressed,
    DeviceSuggestion,
    ProfileChosen,
    ProfileSuggestion,
    ShortcutPressed,
    ViewSubmitted,
)
from services.intake.domain.metadata import ModalMetadata
from services.intake.domain.request_modal import (
    approver_suggestions,
    profile_suggestions,
    request_modal,
)
from services.intake.domain.validation import (
    FieldErrors,
    Submission,
    ValidRequest,
    pair_held_error,
    validate_request,
)
from services.intake.handlers.approver_groups import GroupTooLargeError
from services.intake.handlers.handling import Deps, Handle, id_time, within_budget
from shared.contracts.events import (
    MAX_GROUP_MEMBERS,
    MAX_NAMED_APPROVERS,
    ApproverGroup,
    Person,
    SubmitRequest,
)
from shared.contracts.subjects import Subject
from shared.device_claims import ClaimState, DeviceClaim
from shared.ids import new_id
from shared.profiles import DeviceScope, Profile
from shared.slack_ids import AgainValue, BlockId

log = structlog.get_logger("accessbot.intake")

NO_EMAIL = (
    "Accessbot cannot see your Slack email address, which is how profiles.yaml names "
    "people. Ask an admin to check the app's users:read.email scope."
)
SLACK_SLOW = "Slack did not answer in time; please submit again."
STALE_FORM = "One moment: the form is still loading this profile's fields."
OUTDATED_FORM = "This form is out of date; close it and start again."
NO_APPROVER_EMAIL = (
    "Accessbot cannot see that person's email address; pick someone else, or leave it empty."
)
NOT_SUBMITTED = "The request could not be submitted just now; please try again."
# "Request again" opens a view with a trigger valid 3 s: each lookup before it gets this.
OPEN_BUDGET_SECONDS = 1.0
# The pair's claim is a hint read before the publish, which itself may take 2 s when NATS
# is slow or down: a read that is not back by then is skipped (approvals checks anyway).
CLAIM_READ_SECONDS = 0.5
GROUPS_UNREADABLE = (
    "Accessbot could not read this profile's approver groups from Slack; please try again."
)
GROUP_TOO_LARGE = (
    "An approver group of this profile has more than {limit} members; ask an admin to name "
    "a smaller group in profiles.yaml."
)


class RequestFlow:
    """Handlers of the request modal's interactions."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def shortcut(self, pressed: ShortcutPressed, handle: Handle) -> None:
        """Open the form at once (the trigger is valid 3 s); the request id is born here."""
        request_id = new_id()
        handle.trace.bind(request_id)
        await handle.ack(None)
        view = request_modal(self._deps.profiles, ModalMetadata(request_id=request_id))
        await self._deps.views.open_view(pressed.trigger_id, view)
        handle.trace.outcome = "modal_opened"
        await self._warm(pressed.user_id)

    async def again(self, pressed: ButtonPressed, handle: Handle) -> None:
        """ "Request again": the form for a new request, filled in as the ended one was.

        Nothing in the button's value is trusted: each part is checked as the form's
        validation would, what no longer holds is left empty with one line saying why.
        The trigger is valid 3 s, so the form opens within the pre-ack budget whatever
        Slack's identity lookups do (approvers without names at worst)."""
        await handle.ack(None)
        try:
            value = AgainValue.decode(pressed.value)
        except ValueError:
            handle.trace.outcome = "bad_button_value"
            return
        request_id = new_id()
        handle.trace.bind(request_id)
        handle.trace.details["again_of"] = value.request_id
        requester = await self._person_soon(pressed.user_id)
        email = requester.email if requester else ""
        form = again_form(value, self._deps.profiles, self._deps.devices, email)
        shown = _Shown([])
        if form.profile is not None:
            shown = await self._approvers_soon(form.profile, requester)
        view = request_modal(
            self._deps.profiles,
            ModalMetadata(
                request_id=request_id, profile_id=form.profile.id if form.profile else None
            ),
            profile=form.profile,
            approvers=shown.people,
            now=self._deps.clock(),
            unread_groups=shown.unread_groups,
            prefill=form.prefill,
            again_of=value.request_id,
            notes=form.notes,
        )
        await self._deps.views.open_view(pressed.trigger_id, view)
        handle.trace.outcome = "modal_opened"
        handle.trace.details["not_filled"] = len(form.notes)

    async def _person_soon(self, user_id: str) -> Person | None:
        """The clicker, if Slack answers within the opening budget (else None: the form
        then shows everything the profile allows; the submission checks the rest)."""
        try:
            return await asyncio.wait_for(self._deps.people.person(user_id), OPEN_BUDGET_SECONDS)
        except Exception as exc:  # noqa: BLE001 - a slow or failing lookup only costs the prefill
            log.warning("intake.identity_failed", user=user_id, error=repr(exc))
            return None

    async def _approvers_soon(self, profile: Profile, requester: Person | None) -> _Shown:
        """The approvers to show, named if Slack answers in time, else by email."""
        try:
            return await asyncio.wait_for(self._approvers(profile, requester), OPEN_BUDGET_SECONDS)
        except Exception as exc:  # noqa: BLE001 - the choice still works without names
            log.warning("intake.approver_names_failed", profile=profile.id, error=repr(exc))
            return _bare(profile, requester)

    async def _warm(self, user_id: str) -> None:
        # The submission needs the requester's email before its ack: look it up now.
        try:
            await self._deps.people.person(user_id)
        except Exception as exc:  # noqa: BLE001 - only a cache warm-up; the submit retries
            log.warning("intake.identity_warmup_failed", user=user_id, error=repr(exc))

    async def profile_chosen(self, chosen: ProfileChosen, handle: Handle) -> None:
        """Re-render the modal with the chosen profile's fields."""
        await handle.ack(None)
        try:
            metadata = ModalMetadata.decode(chosen.private_metadata)
        except ValueError:
            handle.trace.outcome = "bad_metadata"
            return
        handle.trace.bind(metadata.request_id)
        profile = self._deps.profiles.get(chosen.profile_id)
        if profile is None:
            handle.trace.outcome = "unknown_profile"
            return
        try:
            requester = await self._deps.people.person(chosen.user_id)
        except Exception as exc:  # noqa: BLE001 - the form still works; only self-exclusion waits
            log.warning("intake.identity_failed", user=chosen.user_id, error=repr(exc))
            requester = None
        try:
            shown = await within_budget(self._approvers(profile, requester))
        except TimeoutError:  # Slack is slow: bare emails now; the lookups fill the caches
            shown = _bare(profile, requester)
        view = request_modal(
            self._deps.profiles,
            replace(metadata, profile_id=profile.id),
            profile=profile,
            approvers=shown.people,
            now=self._deps.clock(),
            unread_groups=shown.unread_groups,
        )
        updated = await self._deps.views.update_view(chosen.view_id, chosen.view_hash, view)
        handle.trace.outcome = "modal_updated" if updated else "superseded"
        handle.trace.details["profile"] = profile.id

    async def _approvers(self, profile: Profile, requester: Person | None) -> _Shown:
        """Who the form offers or names: the eligible approvers active in Slack.

        With Slack user groups the groups are resolved here (cached: the submission,
        which resolves them again before its ack, then rarely waits on Slack).
        """
        if profile.break_glass:
            return _Shown([])
        email = requester.email if requester else ""
        if offers_approver_choice(profile):
            eligible = profile.eligible_approvers(email)
            if not fits_radio_buttons(len(eligible)):
                # searched through block_suggestion: looked up only when searched
                return _Shown([ApproverCandidate(email=e) for e in eligible])
            return _Shown(await self._deps.people.candidates(eligible))
        members: dict[str, list[str]] = {}
        unread: tuple[str, ...] = ()
        if profile.slack_groups():  # the escalation's too: the submission resolves both
            try:
                groups = await self._deps.groups.resolve(profile.slack_groups())
            except Exception as exc:  # noqa: BLE001 - the submission says so; the form still opens
                log.warning("intake.groups_warmup_failed", profile=profile.id, error=repr(exc))
                unread = tuple(profile.slack_groups())
            else:
                members = {g.group_id: g.members for g in groups}
        people = await self._looked_up(profile.eligible_approvers(email, members))
        return _Shown(people, unread)

    async def _looked_up(self, eligible: list[str]) -> list[ApproverCandidate]:
        """The first `MAX_APPROVER_LOOKUPS` looked up (deactivated left out), the rest bare."""
        head, rest = eligible[:MAX_APPROVER_LOOKUPS], eligible[MAX_APPROVER_LOOKUPS:]
        found = await self._deps.people.candidates(head)
        return [*found, *(ApproverCandidate(email=e) for e in rest)]

    async def suggest_approvers(self, asked: ApproverSuggestion, handle: Handle) -> None:
        """Answer the approver search: only people eligible now for this requester and
        profile (never the whole workspace), at most 100, with their local time."""
        profile: Profile | None = None
        with contextlib.suppress(ValueError):
            metadata = ModalMetadata.decode(asked.private_metadata)
            handle.trace.bind(metadata.request_id)
            profile = self._deps.profiles.get(metadata.profile_id or "")
        if profile is None or not offers_approver_choice(profile):
            await handle.ack({"options": []})
            handle.trace.outcome = "no_options"
            return
        chosen = profile

        async def eligible_people() -> list[ApproverCandidate]:
            email = await self._requester_email(asked.user_id)
            return await self._looked_up(chosen.eligible_approvers(email))

        try:
            found = await within_budget(eligible_people())  # one budget: Slack waits 3 s
        except TimeoutError:  # the lookups go on in the cache; the next keystroke has names
            cached = self._deps.people.cached_person(asked.user_id)
            eligible = profile.eligible_approvers(cached.email if cached else "")
            found = [ApproverCandidate(email=e) for e in eligible]
        answer = approver_suggestions(found, asked.query, self._deps.clock())
        await handle.ack(answer)
        handle.trace.outcome = "options"
        handle.trace.details["approvers"] = len(answer["options"])

    async def suggest_devices(self, asked: DeviceSuggestion, handle: Handle) -> None:
        """Answer the device picker from the in-memory index (never from Tailscale)."""
        profile: Profile | None = None
        try:
            metadata = ModalMetadata.decode(asked.private_metadata)
        except ValueError:
            pass
        else:
            handle.trace.bind(metadata.request_id)
            profile = self._deps.profiles.get(metadata.profile_id or "")
        email = await self._requester_email(asked.user_id)
        found = self._deps.devices.search(
            asked.query,
            requester_email=email,
            include_all=profile is not None and profile.devices is DeviceScope.ANY,
        )
        await handle.ack(suggestion_response(device_option_groups(found)))
        handle.trace.outcome = "options"
        handle.trace.details.update(own=len(found.own), others=len(found.others))

    async def suggest_profiles(self, asked: ProfileSuggestion, handle: Handle) -> None:
        """Answer the profile search (shown only with more profiles than a list holds)."""
        with contextlib.suppress(ValueError):
            handle.trace.bind(ModalMetadata.decode(asked.private_metadata).request_id)
        answer = profile_suggestions(self._deps.profiles, asked.query)
        await handle.ack(answer)
        handle.trace.outcome = "options"
        handle.trace.details["profiles"] = len(answer["options"])

    async def _requester_email(self, user_id: str) -> str:
        cached = self._deps.people.cached_person(user_id)
        if cached is not None:
            return cached.email
        try:
            person = await within_budget(self._deps.people.person(user_id))
        except Exception as exc:  # noqa: BLE001 - without an email only "Your devices" is empty
            log.warning("intake.identity_failed", user=user_id, error=repr(exc))
            return ""
        return person.email if person else ""

    async def submit(self, submitted: ViewSubmitted, handle: Handle) -> None:
        """Validate; answer field errors, or publish `access.request.submitted` and close."""
        try:
            metadata = ModalMetadata.decode(submitted.private_metadata)
        except ValueError:
            await handle.reject({BlockId.PROFILE.value: OUTDATED_FORM}, "bad_metadata")
            return
        handle.trace.bind(metadata.request_id)
        form = RequestFormState.read(submitted.values)
        if form.profile_id is not None and form.profile_id != metadata.profile_id:
            await handle.reject({BlockId.PROFILE.value: STALE_FORM}, "stale_form")
            return
        who = await self._who(submitted.user_id, form)
        if isinstance(who, _Refusal):
            await handle.reject(who.errors, who.outcome)
            return
        requester, approver = who
        result = validate_request(
            Submission(
                profile_id=form.profile_id,
                device_id=form.device_id,
                duration=form.duration,
                approver=approver,
                reason=form.reason,
            ),
            requester_email=requester.email,
            profiles=self._deps.profiles,
            devices=self._deps.devices,
        )
        if isinstance(result, dict):
            await handle.reject(result)
            return
        handle.trace.details["profile"] = result.profile.id
        held_by = await self._held_by(metadata.request_id, result)
        if held_by is not None:
            await self._answer_held(held_by, requester, result, handle)
            return
        groups = await self._groups(result.profile, handle)
        if groups is None:
            return
        await self._publish(metadata.request_id, requester, result, groups, handle)

    async def _held_by(self, request_id: str, valid: ValidRequest) -> DeviceClaim | None:
        """Another live request holding this profile on this device, as approvals recorded
        it in KV `device_claims` (None: free, unreadable, or this very request's)."""
        try:
            claim = await asyncio.wait_for(
                self._deps.claims.claim(valid.profile.id, valid.device.node_id),
                CLAIM_READ_SECONDS,
            )
        except Exception as exc:  # noqa: BLE001 - a hint only: approvals checks it again
            log.warning("intake.claim_unreadable", error=repr(exc))
            return None
        if claim is None or claim.request_id == request_id or not claim.holds(datetime.now(UTC)):
            return None
        return claim

    async def _answer_held(
        self, claim: DeviceClaim, requester: Person, valid: ValidRequest, handle: Handle
    ) -> None:
        """One device, one profile, one grant: the requester's own active grant is offered
        for extension (the form becomes the Extend form); anything else is one line."""
        profile = valid.profile
        handle.trace.details["held_by"] = claim.request_id
        if claim.state is not ClaimState.ACTIVE or claim.requester != requester.email:
            error = pair_held_error(claim, profile, requester.email)
            await handle.reject({BlockId.DEVICE.value: error}, "pair_held")
            return
        view = extend_modal(
            # the extension is born with its form, as from the Extend button
            ModalMetadata(
                request_id=claim.request_id, profile_id=profile.id, extension_id=new_id()
            ),
            maximum=self._deps.profiles.max_duration(profile),
            require_reason=profile.require_reason,
            offer=extend_offer(
                profile=profile.description,
                device=valid.device.short_name,
                until=claim.until,
                request_id=claim.request_id,
            ),
            reason=valid.reason,
        )
        handle.trace.outcome = "extend_offered"
        await handle.ack({"response_action": "update", "view": view.to_dict()})

    async def _groups(self, profile: Profile, handle: Handle) -> list[ApproverGroup] | None:
        """The profile's approver (and escalation) groups resolved now (None: the form was
        answered)."""
        groups = profile.slack_groups()
        if not groups:
            return []
        try:
            return await within_budget(self._deps.groups.resolve(groups))
        except TimeoutError:
            await handle.reject({BlockId.PROFILE.value: SLACK_SLOW}, "slack_slow")
        except GroupTooLargeError as exc:
            log.error("intake.approver_group_too_large", group=exc.group_id, size=exc.size)
            too_large = GROUP_TOO_LARGE.format(limit=MAX_GROUP_MEMBERS)
            await handle.reject({BlockId.PROFILE.value: too_large}, "group_too_large")
        except Exception as exc:  # noqa: BLE001 - a Slack error (missing_scope...): one line
            log.error("intake.approver_groups_failed", profile=profile.id, error=repr(exc))
            await handle.reject({BlockId.PROFILE.value: GROUPS_UNREADABLE}, "groups_failed")
        return None

    async def _who(
        self, user_id: str, form: RequestFormState
    ) -> tuple[Person, str | None] | _Refusal:
        """The requester, and the chosen approver as an email (or ANY_APPROVER / None)."""
        people = self._deps.people
        try:
            requester = await within_budget(people.person(user_id))
            picked = (
                await within_budget(people.person(form.approver_user_id))
                if form.approver_user_id is not None
                else None
            )
        except TimeoutError:
            return _Refusal({BlockId.PROFILE.value: SLACK_SLOW}, "slack_slow")
        if requester is None:
            return _Refusal({BlockId.PROFILE.value: NO_EMAIL}, "no_identity")
        if form.approver_user_id is None:
            return requester, form.approver_choice
        if picked is None:
            return _Refusal({BlockId.APPROVER.value: NO_APPROVER_EMAIL}, "invalid")
        return requester, picked.email

    def _named(
        self, profile: Profile, requester: Person, groups: list[ApproverGroup]
    ) -> list[Person]:
        """The approvers (and escalation's) the form showed by name, from the cache only."""
        members = {g.group_id: [str(e) for e in g.members] for g in groups}
        emails = [
            *profile.eligible_approvers(requester.email, members),
            *profile.fallback_approvers(requester.email, members),
        ]
        return self._deps.people.cached_people(emails)[:MAX_NAMED_APPROVERS]

    async def _publish(
        self,
        request_id: str,
        requester: Person,
        valid: ValidRequest,
        groups: list[ApproverGroup],
        handle: Handle,
    ) -> None:
        event = SubmitRequest(
            request_id=request_id,
            requester=requester,
            profile_id=valid.profile.id,
            device_id=valid.device.node_id,
            duration_seconds=valid.duration_seconds,
            approver_email=valid.approver_email,
            reason=valid.reason,
            submitted_at=datetime.now(UTC),
            approver_groups=groups,
            approver_people=self._named(valid.profile, requester, groups),
        )
        try:
            # One submission per request id, ever: a resubmitted view is the same request.
            await handle.publish(
                event,
                key=f"{Subject.REQUEST_SUBMITTED.value}:{request_id}",
                moment=id_time(request_id),
            )
        except Exception:
            log.exception("intake.publish_failed", subject=Subject.REQUEST_SUBMITTED.value)
            await handle.reject({BlockId.PROFILE.value: NOT_SUBMITTED}, "publish_failed")
            return
        await handle.ack(None)  # an empty ack closes the modal


@dataclass(frozen=True, slots=True)
class _Shown:
    """Who the form shows as approvers, and the groups it could not resolve."""

    people: list[ApproverCandidate]
    unread_groups: tuple[str, ...] = ()


def _bare(profile: Profile, requester: Person | None) -> _Shown:
    """Who may approve by profiles.yaml alone (no Slack lookups, groups not resolved)."""
    if profile.break_glass:
        return _Shown([])
    eligible = profile.eligible_approvers(requester.email if requester else "")
    return _Shown(
        [ApproverCandidate(email=e) for e in eligible], tuple(profile.approvers.slack_groups)
    )


@dataclass(frozen=True, slots=True)
class _Refusal:
    """Why a submission cannot be checked: errors for the form, and the log outcome."""

    errors: FieldErrors
    outcome: str
