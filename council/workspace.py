"""
Reads for the council workspace: the dashboard's panels, the review queue and what a
reviewer sees of one record.

Every panel is bounded: a count and the first rows, each costing a fixed number of
queries however many rows match. Scope comes from ``council.permissions`` only.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cities.markdown import render_markdown
from cities.models import Jurisdiction
from council import permissions
from council.history import AuditEntry, audit_entries
from council.models import ApiKey
from initiatives.models import Initiative, Milestone, Plan, PublicationState, Revision
from initiatives.snapshots import (
    INITIATIVE_CHILDREN,
    INITIATIVE_M2M,
    MEASUREMENTS,
    Change,
    Children,
    Record,
    Snapshot,
    diff,
    fields_of,
    snapshot,
    verbose_name,
)

type Kind = Literal["initiatives", "plans"]

KINDS: dict[str, type[Record]] = {"initiatives": Initiative, "plans": Plan}
PANEL_LIMIT = 10
ACTIVITY_LIMIT = 15
QUEUE_PAGE_SIZE = 50
# Fields a council member writes in Markdown; shown rendered (and sanitised) to reviewers.
MARKDOWN_FIELDS = frozenset({"description"})


def kind_of(record: Record) -> Kind:
    return "initiatives" if isinstance(record, Initiative) else "plans"


def model_for(kind: str) -> type[Record] | None:
    return KINDS.get(kind)


@dataclass(frozen=True)
class Panel[T]:
    """The first rows of a list and how many there are in all."""

    rows: list[T]
    total: int

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.rows))


# ------------------------------------------------------------------------------
# My jurisdictions
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JurisdictionRow:
    jurisdiction: Jurisdiction
    role: str
    may_edit: bool
    may_review: bool
    may_manage: bool


def my_jurisdictions(*, user: AbstractBaseUser, limit: int = PANEL_LIMIT) -> Panel[JurisdictionRow]:
    """
    The user's councils with their role. Staff hold no membership but act everywhere:
    they get the top of the map, from which every page is one link away.
    """
    if permissions.is_atlas_staff(user):
        top = Jurisdiction.objects.filter(depth__lte=1).order_by("depth", "name")
        rows = [
            JurisdictionRow(j, _("Atlas staff"), may_edit=True, may_review=True, may_manage=True)
            for j in top[:limit]
        ]
        return Panel(rows, top.count())
    rows = [
        JurisdictionRow(
            m.jurisdiction,
            m.get_role_display(),
            may_edit=permissions.can_edit(user, m.jurisdiction),
            may_review=permissions.can_review(user, m.jurisdiction),
            may_manage=permissions.can_manage_council(user, m.jurisdiction),
        )
        for m in permissions.memberships(user)
    ]
    return Panel(rows, len(rows))


# ------------------------------------------------------------------------------
# My drafts
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftRow:
    """A draft record, or a published record's open revision, awaiting its editor."""

    kind: Kind
    record: Record
    revision: Revision | None
    review_note: str
    updated_at: datetime.datetime

    @property
    def returned(self) -> bool:
        return bool(self.review_note)


def _my_records[R: (Initiative, Plan)](
    model: type[R], *, user: AbstractBaseUser, state: str
) -> QuerySet[R]:
    return (
        model._default_manager.filter(
            Q(created_by_id=user.pk) | Q(updated_by_id=user.pk),
            publication_state=state,
            jurisdiction__in=permissions.visible_jurisdictions(user),
        )
        .select_related("jurisdiction")
        .order_by("-updated_at", "-pk")
    )


def my_drafts(*, user: AbstractBaseUser, limit: int = PANEL_LIMIT) -> Panel[DraftRow]:
    """
    Drafts the user created or last changed, returned ones included, and the user's
    open revisions still in draft: newest first.
    """
    initiatives = _my_records(Initiative, user=user, state=PublicationState.DRAFT)
    plans = _my_records(Plan, user=user, state=PublicationState.DRAFT)
    scope = permissions.visible_jurisdictions(user)
    revisions = (
        Revision.objects.filter(author_id=user.pk, state=Revision.State.DRAFT)
        .filter(Q(initiative__jurisdiction__in=scope) | Q(plan__jurisdiction__in=scope))
        .select_related("initiative__jurisdiction", "plan__jurisdiction")
        .order_by("-updated_at", "-pk")
    )
    records: list[Record] = [*initiatives[:limit], *plans[:limit]]
    rows = [DraftRow(kind_of(r), r, None, r.review_note, r.updated_at) for r in records]
    rows += [
        DraftRow(kind_of(rev.record), rev.record, rev, rev.review_note, rev.updated_at)
        for rev in revisions[:limit]
    ]
    rows.sort(key=lambda row: row.updated_at, reverse=True)
    total = initiatives.count() + plans.count() + revisions.count()
    return Panel(rows[:limit], total)


# ------------------------------------------------------------------------------
# Review queue
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """Something waiting for a reviewer: a new record, or changes to a published one."""

    kind: Kind
    record: Record
    revision: Revision | None
    author: AbstractBaseUser | None
    submitted_at: datetime.datetime
    now: datetime.datetime

    @property
    def jurisdiction(self) -> Jurisdiction:
        return self.record.jurisdiction

    @property
    def waiting_days(self) -> int:
        return max(0, (self.now - self.submitted_at).days)


def _in_review[R: (Initiative, Plan)](
    model: type[R], *, jurisdictions: QuerySet[Jurisdiction]
) -> QuerySet[R]:
    # Records carry no submission time of their own; their history does, with the reason
    # the workflow gives it. One subquery, so the cost does not grow with the queue.
    history: Any = model.history.model
    submitted = (
        history.objects.filter(id=OuterRef("pk"), history_change_reason="submitted")
        .order_by("-history_date")
        .values("history_date")[:1]
    )
    return (
        model._default_manager.filter(
            publication_state=PublicationState.REVIEW, jurisdiction__in=jurisdictions
        )
        .annotate(submitted_at=Coalesce(Subquery(submitted), F("updated_at")))
        .select_related("jurisdiction", "created_by", "updated_by")
        .order_by("submitted_at", "pk")
    )


def _revisions_in_review(*, jurisdictions: QuerySet[Jurisdiction]) -> QuerySet[Revision]:
    return (
        Revision.objects.filter(state=Revision.State.REVIEW)
        .filter(
            Q(initiative__jurisdiction__in=jurisdictions) | Q(plan__jurisdiction__in=jurisdictions)
        )
        .annotate(waiting_since=Coalesce("submitted_at", "updated_at"))
        .select_related("initiative__jurisdiction", "plan__jurisdiction", "author")
        .order_by("waiting_since", "pk")
    )


def review_queue(
    *,
    user: AbstractBaseUser,
    now: datetime.datetime,
    limit: int = QUEUE_PAGE_SIZE,
    offset: int = 0,
) -> Panel[QueueRow]:
    """
    Everything in review where the user reviews, oldest first: ``limit`` rows from
    ``offset``. Each source gives at most ``offset + limit`` rows, so a page costs the
    same few queries however long the queue.
    """
    scope = permissions.reviewable_jurisdictions(user)
    sources: list[QuerySet[Any]] = [
        _in_review(Initiative, jurisdictions=scope),
        _in_review(Plan, jurisdictions=scope),
    ]
    revisions = _revisions_in_review(jurisdictions=scope)
    enough = offset + limit
    rows: list[QueueRow] = [
        QueueRow(kind_of(r), r, None, r.created_by or r.updated_by, r.submitted_at, now)
        for source in sources
        for r in source[:enough]
    ]
    rows += [
        QueueRow(kind_of(rev.record), rev.record, rev, rev.author, rev.waiting_since, now)  # type: ignore[attr-defined]
        for rev in revisions[:enough]
    ]
    rows.sort(key=lambda row: (row.submitted_at, row.kind, row.record.pk))
    total = sum(source.count() for source in sources) + revisions.count()
    return Panel(rows[offset:enough], total)


# ------------------------------------------------------------------------------
# Stale records and milestones due
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaleRow:
    kind: Kind
    record: Record


def stale_records(
    *, user: AbstractBaseUser, now: datetime.datetime, limit: int = PANEL_LIMIT
) -> Panel[StaleRow]:
    """Published records of the user's jurisdictions unchanged for ATLAS_STALE_AFTER_DAYS days."""
    cutoff = now - datetime.timedelta(days=settings.ATLAS_STALE_AFTER_DAYS)
    scope = permissions.visible_jurisdictions(user)
    sources: list[QuerySet[Any]] = [
        model._default_manager.filter(
            publication_state=PublicationState.PUBLISHED,
            jurisdiction__in=scope,
            updated_at__lte=cutoff,
        )
        .select_related("jurisdiction")
        .order_by("updated_at", "pk")
        for model in (Initiative, Plan)
    ]
    rows = [StaleRow(kind_of(r), r) for source in sources for r in source[:limit]]
    rows.sort(key=lambda row: row.record.updated_at)
    return Panel(rows[:limit], sum(source.count() for source in sources))


def milestones_due(
    *, user: AbstractBaseUser, today: datetime.date, limit: int = PANEL_LIMIT
) -> Panel[Milestone]:
    """
    Open milestones of the user's jurisdictions' initiatives, overdue or due within
    ATLAS_MILESTONE_DUE_WITHIN_DAYS days, soonest first. Archived initiatives are left out.
    """
    horizon = today + datetime.timedelta(days=settings.ATLAS_MILESTONE_DUE_WITHIN_DAYS)
    milestones = (
        Milestone.objects.filter(
            completed_on__isnull=True,
            due_date__lte=horizon,
            initiative__jurisdiction__in=permissions.visible_jurisdictions(user),
        )
        .exclude(initiative__publication_state=PublicationState.ARCHIVED)
        .select_related("initiative__jurisdiction")
        .order_by("due_date", "pk")
    )
    return Panel(list(milestones[:limit]), milestones.count())


# ------------------------------------------------------------------------------
# API keys
# ------------------------------------------------------------------------------


def api_key_list(*, user: AbstractBaseUser, include_revoked: bool = True) -> QuerySet[ApiKey]:
    keys = ApiKey.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")
    return keys if include_revoked else keys.filter(revoked_at__isnull=True)


def my_api_keys(*, user: AbstractBaseUser, limit: int = PANEL_LIMIT) -> Panel[ApiKey]:
    keys = api_key_list(user=user, include_revoked=False)
    return Panel(list(keys[:limit]), keys.count())


# ------------------------------------------------------------------------------
# The dashboard
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    jurisdictions: Panel[JurisdictionRow]
    drafts: Panel[DraftRow]
    queue: Panel[QueueRow]
    stale: Panel[StaleRow]
    milestones: Panel[Milestone]
    api_keys: Panel[ApiKey]
    activity: list[AuditEntry]
    may_review: bool
    today: datetime.date
    stale_after_days: int
    milestone_days: int


def dashboard(*, user: AbstractBaseUser, now: datetime.datetime) -> Dashboard:
    today = now.date()
    may_review = permissions.is_atlas_staff(user) or any(
        m.role in permissions.REVIEW_ROLES for m in permissions.memberships(user)
    )
    return Dashboard(
        jurisdictions=my_jurisdictions(user=user),
        drafts=my_drafts(user=user),
        queue=(review_queue(user=user, now=now, limit=PANEL_LIMIT) if may_review else Panel([], 0)),
        stale=stale_records(user=user, now=now),
        milestones=milestones_due(user=user, today=today),
        api_keys=my_api_keys(user=user),
        activity=audit_entries(
            jurisdictions=permissions.visible_jurisdictions(user), limit=ACTIVITY_LIMIT
        ),
        may_review=may_review,
        today=today,
        stale_after_days=settings.ATLAS_STALE_AFTER_DAYS,
        milestone_days=settings.ATLAS_MILESTONE_DUE_WITHIN_DAYS,
    )


# ------------------------------------------------------------------------------
# One record under review
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A value as a reviewer reads it: plain text, or sanitised HTML for Markdown."""

    text: str | SafeString
    empty: bool = False


@dataclass(frozen=True)
class FieldRow:
    label: str
    value: Shown


@dataclass(frozen=True)
class ChildTable:
    label: str
    headers: list[str]
    rows: list[list[Shown]]


@dataclass(frozen=True)
class ChangeRow:
    section: str
    label: str
    kind: str
    before: Shown
    after: Shown


@dataclass
class ReviewItem:
    """What the review page shows of one record."""

    kind: Kind
    record: Record
    revision: Revision | None
    in_review: bool
    changes: list[ChangeRow] = field(default_factory=list)
    fields: list[FieldRow] = field(default_factory=list)
    children: list[ChildTable] = field(default_factory=list)

    @property
    def is_new(self) -> bool:
        return self.revision is None


class _Names:
    """
    Display names for the ids a snapshot holds, looked up one query per related model
    for all values at once, so a long diff costs no more than a short one.
    """

    def __init__(self) -> None:
        self._wanted: dict[type[models.Model], set[Any]] = {}
        self._names: dict[type[models.Model], dict[Any, str]] = {}

    def want(self, model: type[models.Model], values: Iterable[Any]) -> None:
        self._wanted.setdefault(model, set()).update(v for v in values if v is not None)

    def load(self) -> None:
        for model, ids in self._wanted.items():
            if ids:
                objects = model._default_manager.filter(pk__in=ids)
                self._names[model] = {obj.pk: str(obj) for obj in objects}

    def name(self, model: type[models.Model], value: Any) -> str:
        return self._names.get(model, {}).get(value, str(value))


def _related_model(model: type[models.Model], name: str) -> type[models.Model] | None:
    model_field = model._meta.get_field(name)
    if model_field.is_relation:
        return model_field.related_model
    return None


def _want_values(names: _Names, model: type[models.Model], row: Mapping[str, Any]) -> None:
    for name, value in row.items():
        if name in ("id", "measurements"):
            continue
        related = _related_model(model, name)
        if related is not None:
            names.want(related, value if isinstance(value, list) else [value])


def _show(names: _Names, model: type[models.Model], name: str, value: Any) -> Shown:
    if value is None or value == "" or value == []:
        return Shown("—", empty=True)
    if name in MARKDOWN_FIELDS:
        return Shown(render_markdown(str(value)))
    related = _related_model(model, name)
    if related is not None:
        values = value if isinstance(value, list) else [value]
        return Shown(", ".join(names.name(related, v) for v in values))
    choices = dict(model._meta.get_field(name).flatchoices)  # type: ignore[union-attr]
    if choices:
        return Shown(str(choices.get(value, value)))
    if isinstance(value, bool):
        return Shown(_("Yes") if value else _("No"))
    return Shown(str(value))


def _show_row(names: _Names, spec: Children, row: Mapping[str, Any] | None) -> Shown:
    """A whole child row in one line, for rows added or removed."""
    if not row:
        return Shown("—", empty=True)
    parts = [
        f"{verbose_name(spec.model, name)}: {_show(names, spec.model, name, row.get(name)).text}"
        for name in spec.fields
        if row.get(name) not in (None, "")
    ]
    if spec.key == "indicators" and row.get("measurements"):
        count = len(row["measurements"])
        parts.append(
            ngettext("%(count)d measurement", "%(count)d measurements", count) % {"count": count}
        )
    return Shown("; ".join(parts))


_SPECS: dict[str, Children] = {spec.key: spec for spec in (*INITIATIVE_CHILDREN, MEASUREMENTS)}


def _section_label(model: type[Record], section: str) -> str:
    if not section:
        return str(model._meta.verbose_name).capitalize()
    spec = _SPECS[section]
    return str(spec.model._meta.verbose_name_plural).capitalize()


def _children_of(data: Snapshot) -> Iterable[tuple[Children, Mapping[str, Any]]]:
    for spec in INITIATIVE_CHILDREN:
        for row in data.get(spec.key, []):
            yield spec, row
            if spec.key == "indicators":
                for measurement in row.get("measurements", []):
                    yield MEASUREMENTS, measurement


def _want_snapshot(names: _Names, model: type[Record], data: Snapshot) -> None:
    _want_values(names, model, data.get("fields", {}))
    for name in INITIATIVE_M2M if model is Initiative else ():
        names.want(_related_model(model, name) or model, data.get(name, []))
    for spec, row in _children_of(data):
        _want_values(names, spec.model, row)


def _change_row(names: _Names, model: type[Record], change: Change) -> ChangeRow:
    section = _section_label(model, change.section)
    if not change.section:
        before = _show(names, model, change.field, change.before)
        after = _show(names, model, change.field, change.after)
    else:
        spec = _SPECS[change.section]
        if change.kind == "changed":
            before = _show(names, spec.model, change.field, change.before)
            after = _show(names, spec.model, change.field, change.after)
        else:
            before = _show_row(names, spec, change.before)
            after = _show_row(names, spec, change.after)
    return ChangeRow(section, change.label, change.kind, before, after)


def _measurement_table(names: _Names, indicators: list[Mapping[str, Any]]) -> ChildTable:
    spec = MEASUREMENTS
    return ChildTable(
        _section_label(Initiative, spec.key),
        [str(_SPECS["indicators"].model._meta.verbose_name).capitalize()]
        + [verbose_name(spec.model, name) for name in spec.fields],
        [
            [Shown(str(indicator.get("name") or "—"))]
            + [_show(names, spec.model, name, row.get(name)) for name in spec.fields]
            for indicator in indicators
            for row in indicator.get("measurements", [])
        ],
    )


def review_item(*, record: Record) -> ReviewItem:
    """
    What a reviewer checks: for a published record with changes waiting, each change
    (children included); otherwise every field and child row of the record as stored.
    """
    model = type(record)
    kind = kind_of(record)
    names = _Names()
    revision = None
    if record.publication_state == PublicationState.PUBLISHED:
        revision = (
            Revision.objects.filter(
                state__in=Revision.OPEN_STATES,
                **({"initiative": record} if kind == "initiatives" else {"plan": record}),
            )
            .select_related("author")
            .first()
        )
    if revision is not None:
        before = snapshot(record)
        changes = diff(before, revision.data, model=model)
        _want_snapshot(names, model, before)
        _want_snapshot(names, model, revision.data)
        names.load()
        return ReviewItem(
            kind,
            record,
            revision,
            in_review=revision.state == Revision.State.REVIEW,
            changes=[_change_row(names, model, change) for change in changes],
        )

    data = snapshot(record)
    _want_snapshot(names, model, data)
    names.load()
    values = data["fields"]
    rows = [
        FieldRow(verbose_name(model, name), _show(names, model, name, values.get(name)))
        for name in fields_of(model)
    ]
    for name in INITIATIVE_M2M if model is Initiative else ():
        rows.append(
            FieldRow(verbose_name(model, name), _show(names, model, name, data.get(name, [])))
        )
    children: list[ChildTable] = []
    if model is Initiative:
        for spec in INITIATIVE_CHILDREN:
            child_rows = data.get(spec.key, [])
            if not child_rows:
                continue
            children.append(
                ChildTable(
                    _section_label(model, spec.key),
                    [verbose_name(spec.model, name) for name in spec.fields],
                    [
                        [_show(names, spec.model, name, row.get(name)) for name in spec.fields]
                        for row in child_rows
                    ],
                )
            )
            if spec.key == "indicators":
                measurements = _measurement_table(names, child_rows)
                if measurements.rows:
                    children.append(measurements)
    return ReviewItem(
        kind,
        record,
        None,
        in_review=record.publication_state == PublicationState.REVIEW,
        fields=rows,
        children=children,
    )


def record_for_review(*, kind: str, slug: str, user: AbstractBaseUser) -> Record:
    """The record at ``kind``/``slug`` if the user's council answers for it, else 404."""
    model = model_for(kind)
    if model is None:
        raise Http404
    queryset: QuerySet[Any] = model._default_manager.select_related("jurisdiction")
    return permissions.council_object_or_404(queryset, user, slug=slug)
