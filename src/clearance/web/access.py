"""Who may see which case, and answering a gate: shared by the API and pages.

A user never reads above their clearance: every case they are shown, and
every count, comes through these helpers (which pass their clearance to the
service layer as ``max_level``), and a case they may not see is "not found"
in the same words as one that does not exist. A case is read as its viewer
(``reader``), so its decision shows another party's stock only as the service
lets that viewer see it.

Stock itself is the service's to decide (``service.stockpile``): the routes
pass the viewer, and show what comes back.

Policy proposals too: whoever sees every case (reviewers, auditors, admins,
office holders) sees every proposal; anyone else sees their own party's. What
a proposal would change is shown only of the cases the viewer may see.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from clearance.core.access import Level, Role
from clearance.core.signing import Signer
from clearance.core.stockpile import Rating
from clearance.errors import ClearanceError, NotFoundError
from clearance.service.accounts import SignedIn
from clearance.service.cases import CaseView
from clearance.service.keyfiles import open_key_file
from clearance.service.people import offices_of
from clearance.service.proposals import Impact, ProposalView
from clearance.service.replay import Change
from clearance.store.proposals import ProposalRecord
from clearance.store.records import CaseRecord

from .context import Server
from .rendering import highest

__all__ = [
    "WORST_FIRST",
    "Activated",
    "SeenImpact",
    "activate_proposal",
    "answer_case",
    "case_scope",
    "may_activate",
    "sees_all_cases",
    "visible_case",
    "visible_impact",
    "visible_overdue",
    "visible_proposal",
    "visible_proposals",
]

log = logging.getLogger("clearance.web")


def sees_all_cases(srv: Server, viewer: SignedIn) -> bool:
    """Reviewers, auditors, admins and office holders see every case up to their clearance;
    a requester alone sees the cases they submitted."""
    if viewer.has(Role.REVIEWER) or viewer.has(Role.AUDITOR):
        return True
    return bool(offices_of(srv.store, viewer.id, srv.now().date()))


def case_scope(srv: Server, viewer: SignedIn) -> dict[str, Any]:
    """The ``max_level`` and ``submitted_by`` filters of the cases ``viewer`` may see."""
    return {
        "max_level": int(viewer.clearance),
        "submitted_by": None if sees_all_cases(srv, viewer) else viewer.id,
    }


def visible_case(srv: Server, viewer: SignedIn, case_id: str) -> CaseView:
    """A case by id or number, or ``NotFoundError`` if ``viewer`` may not see it."""
    view = srv.cases.view(case_id, max_level=int(viewer.clearance), reader=viewer.user)
    if not sees_all_cases(srv, viewer) and view.case.submitted_by != viewer.id:
        raise NotFoundError(f"no case '{case_id}'")
    return view


def visible_overdue(
    srv: Server, viewer: SignedIn, now: dt.datetime, limit: int | None = None
) -> list[CaseRecord]:
    """Cases waiting on an office past their SLA that ``viewer`` may see, oldest first."""
    return srv.cases.overdue(now, limit=limit, **case_scope(srv, viewer))


def answer_case(
    srv: Server,
    viewer: SignedIn,
    case_id: str,
    *,
    approve: bool,
    reason: str,
    passphrase: str,
    authority: str | None,
) -> CaseView:
    """Approve or deny a gate of a case, signed with the viewer's own key; the case as the
    viewer then sees it."""
    visible_case(srv, viewer, case_id)  # 404 for a case you may not see, before anything else
    return srv.cases.answer(
        case_id,
        actor=viewer.id,
        approve=approve,
        reason=reason,
        signer=_signer(srv, viewer, passphrase),
        now=srv.now(),
        authority=authority,
        reader=viewer.user,
    )


def _signer(srv: Server, viewer: SignedIn, passphrase: str) -> Signer:
    """The viewer's own signing key on this server, unlocked with their passphrase (an old
    key file is resealed in the current format as it is)."""
    return open_key_file(
        srv.key_path(viewer.id),
        passphrase,
        missing=f"no signing key is registered on this server for {viewer.id}",
    )


# stock --------------------------------------------------------------------------

WORST_FIRST = sorted(Rating, key=lambda r: -r.severity)
"""Red, yellow, green: the order of the board and of its counts."""


# policy proposals ---------------------------------------------------------------


def _sees_proposal(srv: Server, viewer: SignedIn, holder: str) -> bool:
    """Whoever sees every case sees every proposal; anyone else, their own party's.

    A proposal is its party's draft policy until activated; the people who may
    be asked to activate one (office holders) see every case, so they see it too.
    """
    return viewer.user.party == holder or sees_all_cases(srv, viewer)


def visible_proposals(srv: Server, viewer: SignedIn) -> list[ProposalRecord]:
    """The proposals ``viewer`` may see, oldest first."""
    everything = sees_all_cases(srv, viewer)
    return [r for r in srv.proposals.all() if everything or r.holder == viewer.user.party]


def visible_proposal(srv: Server, viewer: SignedIn, number: int) -> ProposalView:
    """A proposal, or ``NotFoundError`` in the service's own words if ``viewer`` may not see it."""
    view = srv.proposals.view(number, now=srv.now())
    if not _sees_proposal(srv, viewer, view.record.holder):
        raise NotFoundError(f"no proposal {number}")
    return view


def may_activate(srv: Server, viewer: SignedIn, view: ProposalView) -> bool:
    """Whether to offer ``viewer`` the Activate form (the service checks again when sent)."""
    return srv.proposals.may_activate(view, viewer.id, srv.now().date())


@dataclass(frozen=True, slots=True)
class SeenImpact:
    """What a proposal would change, of the cases the viewer may see.

    ``examined`` (how many stored cases were replayed) is a count of every case,
    so it is given only to a viewer who sees every case at every level.
    ``level`` is the highest classification of the cases listed, for the banner.
    """

    examined: int | None
    replay: tuple[Change, ...]
    open_cases: tuple[tuple[CaseRecord, str, str], ...]
    level: Level
    unjudged: tuple[tuple[CaseRecord, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        listed = Impact(0, self.replay, self.open_cases, self.unjudged).as_dict()
        return {**listed, "examined": self.examined}


def _sees_record(viewer: SignedIn, case: CaseRecord, everyone: bool) -> bool:
    """``visible_case``'s rule, on a record already read (no second look-up)."""
    return case.classification <= int(viewer.clearance) and (
        everyone or case.submitted_by == viewer.id
    )


def visible_impact(srv: Server, viewer: SignedIn, view: ProposalView) -> SeenImpact:
    """The proposal's replay and open-case impact, without any case ``viewer`` may not see.

    A replayed change names its case but not the case's level, so each is looked
    up as the viewer (as a page of the case would be).
    """
    impact = srv.proposals.impact(view.record.number, now=srv.now(), view=view)
    everyone = sees_all_cases(srv, viewer)
    replay: list[Change] = []
    levels: list[int] = []
    for change in impact.replay:
        try:
            levels.append(visible_case(srv, viewer, change.case_id).case.classification)
        except NotFoundError:
            continue
        replay.append(change)
    open_cases = tuple(row for row in impact.open_cases if _sees_record(viewer, row[0], everyone))
    unjudged = tuple(row for row in impact.unjudged if _sees_record(viewer, row[0], everyone))
    levels += [case.classification for case, _, _ in open_cases]
    levels += [case.classification for case, _ in unjudged]
    whole = everyone and viewer.clearance == Level.TOP_SECRET
    return SeenImpact(
        examined=impact.examined if whole else None,
        replay=tuple(replay),
        open_cases=open_cases,
        level=highest(levels),
        unjudged=unjudged,
    )


@dataclass(frozen=True, slots=True)
class Activated:
    """An activated proposal and what the re-screening that followed found, of the cases the
    activator may see: the open cases now decided differently, and those it could not judge.
    ``rescreen_error`` says why the re-screening did not run, when it did not: the
    activation stands all the same."""

    view: ProposalView
    rescreened: tuple[tuple[CaseRecord, str, str], ...]
    failed: tuple[tuple[CaseRecord, str], ...] = ()
    rescreen_error: str | None = None

    @property
    def level(self) -> Level:
        """The highest classification of the re-screened cases listed, for the banner."""
        cases = [case for case, _, _ in self.rescreened] + [case for case, _ in self.failed]
        return highest([case.classification for case in cases])

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.view.as_dict(),
            "rescreened": [
                {"number": case.number, "case_id": case.id, "was": was, "would_be": would_be}
                for case, was, would_be in self.rescreened
            ],
            "rescreen_failed": [
                {"number": case.number, "case_id": case.id, "problem": problem}
                for case, problem in self.failed
            ],
            "rescreen_error": self.rescreen_error,
        }


def activate_proposal(srv: Server, viewer: SignedIn, number: int, *, passphrase: str) -> Activated:
    """Activate a proposal signed with the viewer's own key, then re-screen the open cases.

    The service decides who may (the holder of the named office, personally);
    this process then uses the new policy at once rather than within a second,
    and the re-screening puts any changed finding on the open cases' timelines,
    as ``clearance policy activate`` does. Once the activation is committed the
    answer says so, whatever happens to the re-screening after it: a re-screening
    that cannot run is reported with the activation, never as its failure.
    """
    visible_proposal(srv, viewer, number)  # 404 for a proposal you may not see, first
    view = srv.proposals.activate(
        number, actor=viewer.id, signer=_signer(srv, viewer, passphrase), now=srv.now()
    )
    srv.policy_changed()
    try:
        found = srv.cases.rescreen(actor=viewer.id, now=srv.now())
    except ClearanceError as exc:
        return Activated(view, (), rescreen_error=_not_rescreened(exc.message))
    except Exception:  # a bug: logged with its traceback, and the activation still stands
        log.exception("re-screening after activating proposal %s failed", number)
        return Activated(
            view, (), rescreen_error=_not_rescreened("internal error; it has been logged")
        )
    everyone = sees_all_cases(srv, viewer)
    return Activated(
        view,
        tuple(row for row in found.changed if _sees_record(viewer, row[0], everyone)),
        tuple(row for row in found.failed if _sees_record(viewer, row[0], everyone)),
    )


def _not_rescreened(why: str) -> str:
    return f"the open cases were not re-screened ({why}); run 'clearance cases rescreen'"
