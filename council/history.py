"""
A record's past: its timeline of versions, restoring one of them, and the audit log.

simple-history keeps one row per save of every model, including a record's child
rows (an initiative's milestones, a coalition's memberships). What an editor
thinks of as one change is several such rows: the services write the children
first and the record last, in one transaction and within moments. A **version**
is therefore the run of history rows of a record and of its children written by
the same user with no pause longer than ``VERSION_WINDOW`` between them.

Initiatives and plans are restored by ``initiatives.workflow.record_restore``;
the other records by the services below, which follow the same rule: a restore
is a new version, and nothing is deleted from history.
"""

from __future__ import annotations

import datetime
import difflib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cities.models import Jurisdiction
from council import permissions
from council.forms import JURISDICTION_PROFILE_FIELDS
from council.models import (
    Coalition,
    CoalitionMembership,
    Contribution,
    CouncilMembership,
    Organization,
)
from initiatives import workflow
from initiatives.models import (
    FocusArea,
    Indicator,
    Initiative,
    InitiativeLink,
    Measurement,
    Milestone,
    Partnership,
    Plan,
    Revision,
    Sector,
    Source,
)
from initiatives.services import delete_with_history, save_with_history

# Services write a change's rows within milliseconds; a person's next change
# comes seconds later at the earliest.
VERSION_WINDOW = datetime.timedelta(seconds=2)
VERSIONS_PER_PAGE = 20

# The URL's ``kind`` and the model it names.
RECORD_KINDS: dict[str, type[models.Model]] = {
    "initiatives": Initiative,
    "plans": Plan,
    "organizations": Organization,
    "coalitions": Coalition,
    "jurisdictions": Jurisdiction,
}

# Bookkeeping that every save touches, and tree fields the history does not keep.
_NOT_SHOWN = frozenset(
    {"id", "created_at", "updated_at", "created_by", "updated_by", "path", "depth"}
)

type HistoryRow = Any  # an instance of a simple-history model
type Names = dict[tuple[type[models.Model], Any], str]


def history_model(model: type[models.Model]) -> type[models.Model]:
    return model.history.model  # type: ignore[attr-defined]


def kind_of(record: models.Model) -> str:
    """The URL ``kind`` of ``record``."""
    for kind, model in RECORD_KINDS.items():
        if isinstance(record, model):
            return kind
    raise ValueError(f"{type(record).__name__} has no timeline.")


# ------------------------------------------------------------------------------
# What a timeline follows
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tracked:
    """One model whose history rows belong to a record's timeline."""

    model: type[models.Model]
    # The historical field pointing at the record; "" for the record itself.
    parent: str = ""
    # Headings, given the row's title.
    changed: str | Promise = ""
    added: str | Promise = ""
    removed: str | Promise = ""

    @property
    def is_record(self) -> bool:
        return not self.parent


def _record(model: type[models.Model]) -> Tracked:
    return Tracked(model)


MILESTONES = Tracked(
    Milestone,
    "initiative_id",
    gettext_lazy("Milestone “%(title)s”"),
    gettext_lazy("Milestone added: %(title)s"),
    gettext_lazy("Milestone removed: %(title)s"),
)
INDICATORS = Tracked(
    Indicator,
    "initiative_id",
    gettext_lazy("Indicator “%(title)s”"),
    gettext_lazy("Indicator added: %(title)s"),
    gettext_lazy("Indicator removed: %(title)s"),
)
MEASUREMENTS = Tracked(
    Measurement,
    "indicator_id",
    gettext_lazy("Measurement “%(title)s”"),
    gettext_lazy("Measurement added: %(title)s"),
    gettext_lazy("Measurement removed: %(title)s"),
)
PARTNERSHIPS = Tracked(
    Partnership,
    "initiative_id",
    gettext_lazy("Partner “%(title)s”"),
    gettext_lazy("Partner added: %(title)s"),
    gettext_lazy("Partner removed: %(title)s"),
)
SOURCES = Tracked(
    Source,
    "initiative_id",
    gettext_lazy("Source “%(title)s”"),
    gettext_lazy("Source added: %(title)s"),
    gettext_lazy("Source removed: %(title)s"),
)
LINKS = Tracked(
    InitiativeLink,
    "from_initiative_id",
    gettext_lazy("Link “%(title)s”"),
    gettext_lazy("Link added: %(title)s"),
    gettext_lazy("Link removed: %(title)s"),
)
MEMBERSHIPS = Tracked(
    CoalitionMembership,
    "coalition_id",
    gettext_lazy("Member “%(title)s”"),
    gettext_lazy("Member added: %(title)s"),
    gettext_lazy("Member removed: %(title)s"),
)


TIMELINES: dict[type[models.Model], tuple[Tracked, ...]] = {
    Initiative: (
        _record(Initiative),
        MILESTONES,
        INDICATORS,
        MEASUREMENTS,
        PARTNERSHIPS,
        SOURCES,
        LINKS,
    ),
    Plan: (_record(Plan),),
    Organization: (_record(Organization),),
    Coalition: (_record(Coalition), MEMBERSHIPS),
    Jurisdiction: (_record(Jurisdiction),),
}

# The initiative's many-to-many fields, and the column naming the related row.
_M2M = (("focus_areas", FocusArea, "focusarea_id"), ("sectors", Sector, "sector_id"))


def _shown_fields(tracked: Tracked) -> list[models.Field[Any, Any]]:
    """The fields a diff compares: what the history keeps, less bookkeeping and the parent link."""
    historical = history_model(tracked.model)
    parent = tracked.parent.removesuffix("_id")
    return [
        f
        for f in tracked.model._meta.concrete_fields
        if f.name not in _NOT_SHOWN and f.name != parent and hasattr(historical, f.attname)
    ]


def _timeline_queries(record: models.Model) -> list[tuple[Tracked, QuerySet[Any]]]:
    """One query per tracked model: every history row of the record and of its children."""
    queries: list[tuple[Tracked, QuerySet[Any]]] = []
    for tracked in TIMELINES[type(record)]:
        rows = history_model(tracked.model).objects.select_related("history_user")  # type: ignore[attr-defined]
        if tracked.is_record:
            rows = rows.filter(id=record.pk)
        elif tracked is MEASUREMENTS:
            # Measurements hang off indicators, including ones deleted since.
            indicators = history_model(Indicator).objects.filter(initiative_id=record.pk)  # type: ignore[attr-defined]
            rows = rows.filter(indicator_id__in=indicators.values("id"))
        else:
            rows = rows.filter(**{tracked.parent: record.pk})
        queries.append((tracked, rows.order_by("history_date", "history_id")))
    return queries


# ------------------------------------------------------------------------------
# Versions
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    op: str  # "+", "-", " " or "@" for a gap between hunks
    text: str

    @property
    def css(self) -> str:
        return {"+": "added", "-": "removed", "@": "gap"}.get(self.op, "same")


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str
    # For long text: the lines that changed, with a little context.
    lines: tuple[DiffLine, ...] = ()


@dataclass(frozen=True)
class RowChange:
    action: str  # "added", "changed" or "removed"
    heading: str
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class Version:
    """One operation on a record: when it ended, who did it, why, and what it changed."""

    when: datetime.datetime
    actor_name: str
    reasons: tuple[str, ...]
    changes: tuple[RowChange, ...]
    is_current: bool

    @property
    def token(self) -> str:
        """What the restore form posts to name this version."""
        return self.when.isoformat()


@dataclass
class _Group:
    rows: list[tuple[Tracked, HistoryRow]] = field(default_factory=list)

    @property
    def when(self) -> datetime.datetime:
        return self.rows[-1][1].history_date


@dataclass
class _Loaded:
    """A record's history rows, read once, grouped into versions (oldest first)."""

    groups: list[_Group]
    # Every row of one tracked row (model and id), oldest first.
    series: dict[tuple[type[models.Model], Any], list[HistoryRow]]


def _load(record: models.Model) -> _Loaded:
    rows: list[tuple[Tracked, HistoryRow]] = []
    series: dict[tuple[type[models.Model], Any], list[HistoryRow]] = {}
    for tracked, queryset in _timeline_queries(record):
        for row in queryset:
            rows.append((tracked, row))
            series.setdefault((tracked.model, row.id), []).append(row)
    rows.sort(key=lambda pair: (pair[1].history_date, pair[1].history_id))
    groups: list[_Group] = []
    for tracked, row in rows:
        last = groups[-1].rows[-1][1] if groups else None
        if (
            last is not None
            and last.history_user_id == row.history_user_id
            and row.history_date - last.history_date <= VERSION_WINDOW
        ):
            groups[-1].rows.append((tracked, row))
        else:
            groups.append(_Group([(tracked, row)]))
    return _Loaded(groups, series)


def version_times(record: models.Model) -> list[datetime.datetime]:
    """When each version of ``record`` ended, newest first: what a restore may name."""
    return [group.when for group in reversed(_load(record).groups)]


@dataclass(frozen=True)
class Timeline:
    record: models.Model
    page: Page[Version]

    @property
    def versions(self) -> list[Version]:
        return list(self.page.object_list)


def record_timeline(
    *, record: models.Model, page: int | str | None = 1, per_page: int = VERSIONS_PER_PAGE
) -> Timeline:
    """
    ``record``'s versions, newest first, one page of them with their field-level diffs.

    The queries are a fixed few whatever the number of versions: one per tracked
    model for the rows, then one per kind of name the page's diffs mention.
    """
    loaded = _load(record)
    newest_first = list(reversed(loaded.groups))
    paginator = Paginator(newest_first, per_page)
    groups_page = paginator.get_page(page)
    groups: list[_Group] = list(groups_page.object_list)
    pairs = [_net_rows(group, loaded) for group in groups]
    names = _names_for(pairs, loaded)
    m2m = _m2m_for(pairs) if isinstance(record, Initiative) else {}
    current = newest_first[0] if newest_first else None
    versions = [
        Version(
            when=group.when,
            actor_name=_actor_name(group.rows[-1][1]),
            reasons=tuple(
                dict.fromkeys(
                    row.history_change_reason for _t, row in group.rows if row.history_change_reason
                )
            ),
            changes=tuple(_changes(pair, names, m2m, loaded)),
            is_current=group is current,
        )
        for group, pair in zip(groups, pairs, strict=True)
    ]
    groups_page.object_list = versions  # type: ignore[assignment]
    return Timeline(record=record, page=groups_page)  # type: ignore[arg-type]


def _actor_name(row: HistoryRow) -> str:
    user = row.history_user
    return str(user.get_username()) if user is not None else ""


@dataclass(frozen=True)
class _NetRow:
    """One tracked row's net change in a version: its state before it and after it."""

    tracked: Tracked
    before: HistoryRow | None  # None when the row did not exist
    after: HistoryRow  # the row's last history row in the version


def _net_rows(group: _Group, loaded: _Loaded) -> list[_NetRow]:
    first: dict[tuple[type[models.Model], Any], tuple[Tracked, HistoryRow]] = {}
    last: dict[tuple[type[models.Model], Any], HistoryRow] = {}
    for tracked, row in group.rows:
        key = (tracked.model, row.id)
        first.setdefault(key, (tracked, row))
        last[key] = row
    net: list[_NetRow] = []
    for key, (tracked, row) in first.items():
        series = loaded.series[key]
        index = next(i for i, r in enumerate(series) if r.history_id == row.history_id)
        before = series[index - 1] if index else None
        if before is not None and before.history_type == "-":
            before = None
        net.append(_NetRow(tracked, before, last[key]))
    # The record's own fields first, then its children in the order the timeline lists them.
    order = {tracked.model: i for i, tracked in enumerate(TIMELINES[_record_model(net)])}
    net.sort(key=lambda n: (order.get(n.tracked.model, 99), n.after.id))
    return net


def _record_model(net: Sequence[_NetRow]) -> type[models.Model]:
    for model, tracked_list in TIMELINES.items():
        if any(n.tracked in tracked_list for n in net):
            return model
    return Initiative


def _names_for(pairs: Iterable[list[_NetRow]], loaded: _Loaded) -> Names:
    """The names of everything the page's rows point at: one query per kind of target."""
    wanted: dict[type[models.Model], set[Any]] = {}
    for net_rows in pairs:
        for net in net_rows:
            for row in (net.before, net.after):
                if row is None:
                    continue
                for f in _shown_fields(net.tracked):
                    value = getattr(row, f.attname)
                    if f.is_relation and value is not None:
                        wanted.setdefault(f.related_model, set()).add(value)  # type: ignore[arg-type]
    names: Names = {}
    for model, ids in wanted.items():
        for obj in model._default_manager.filter(pk__in=ids):
            names[(model, obj.pk)] = str(obj)
    # Measurements are titled by their indicator, which the timeline already read.
    for (model, pk), series in loaded.series.items():
        if model is Indicator:
            names[(Indicator, pk)] = series[-1].name
    return names


def _m2m_for(pairs: Iterable[list[_NetRow]]) -> dict[tuple[str, int], list[str]]:
    """The focus areas and sectors of each initiative history row on the page, by name."""
    history_ids = {
        row.history_id
        for net_rows in pairs
        for net in net_rows
        if net.tracked.model is Initiative
        for row in (net.before, net.after)
        if row is not None
    }
    result: dict[tuple[str, int], list[str]] = {}
    if not history_ids:
        return result
    historical = history_model(Initiative)
    for name, target, column in _M2M:
        through = historical._meta.get_field(f"historicalinitiative_{name}").related_model
        links = list(
            through._default_manager.filter(history_id__in=history_ids).values_list(  # type: ignore[union-attr]
                "history_id", column
            )
        )
        labels = {obj.pk: str(obj) for obj in target.objects.filter(pk__in={t for _h, t in links})}
        for history_id in history_ids:
            result[(name, history_id)] = []
        for history_id, target_id in links:
            result[(name, history_id)].append(labels.get(target_id, f"#{target_id}"))
        for key in list(result):
            if key[0] == name:
                result[key].sort()
    return result


def _changes(
    net_rows: list[_NetRow],
    names: Names,
    m2m: dict[tuple[str, int], list[str]],
    loaded: _Loaded,
) -> list[RowChange]:
    changes: list[RowChange] = []
    for net in net_rows:
        tracked, before, after = net.tracked, net.before, net.after
        if after.history_type == "-":
            if before is None:
                continue  # made and removed within one operation: nothing to tell
            if tracked.is_record:
                changes.append(RowChange("removed", _("Deleted")))
            else:
                title = _row_title(tracked, before, names)
                changes.append(RowChange("removed", str(tracked.removed) % {"title": title}))
            continue
        if before is None:
            if tracked.is_record:
                changes.append(RowChange("added", _("Created")))
            else:
                title = _row_title(tracked, after, names)
                changes.append(RowChange("added", str(tracked.added) % {"title": title}))
            continue
        fields = [
            change
            for f in _shown_fields(tracked)
            if (change := _field_change(f, before, after, names)) is not None
        ]
        if tracked.model is Initiative:
            for name, _target, _column in _M2M:
                old = m2m.get((name, before.history_id), [])
                new = m2m.get((name, after.history_id), [])
                if old != new:
                    label = str(getattr(Initiative._meta.get_field(name), "verbose_name", name))
                    fields.append(FieldChange(_capital(label), ", ".join(old), ", ".join(new)))
        if not fields:
            continue
        heading = (
            ""
            if tracked.is_record
            else str(tracked.changed) % {"title": _row_title(tracked, after, names)}
        )
        changes.append(RowChange("changed", heading, tuple(fields)))
    return changes


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _field_change(
    f: models.Field[Any, Any], before: HistoryRow, after: HistoryRow, names: Names
) -> FieldChange | None:
    old, new = getattr(before, f.attname), getattr(after, f.attname)
    if old == new or (old in (None, "") and new in (None, "")):
        return None
    label = _capital(str(f.verbose_name))
    if isinstance(f, models.TextField) and not f.choices:
        return FieldChange(label, old or "", new or "", _text_diff(old or "", new or ""))
    return FieldChange(label, display_value(f, old, names), display_value(f, new, names))


def _text_diff(old: str, new: str) -> tuple[DiffLine, ...]:
    lines: list[DiffLine] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append(DiffLine("@", "…"))
        else:
            lines.append(DiffLine(line[:1] or " ", line[1:]))
    return tuple(lines)


def display_value(f: models.Field[Any, Any], value: Any, names: Names) -> str:
    """A stored value as a reader knows it: choices by label, foreign keys by name."""
    if value is None or value == "":
        return ""
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if f.is_relation:
        return names.get(
            (f.related_model, value),  # type: ignore[arg-type]
            _("%(model)s #%(id)s (deleted)")
            % {"model": f.related_model._meta.verbose_name, "id": value},  # type: ignore[union-attr]
        )
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dict | list):
        text = json.dumps(value)
        return text if len(text) <= 80 else text[:79] + "…"
    return str(value)


def _row_title(tracked: Tracked, row: HistoryRow, names: Names) -> str:
    """How a child row is named in a heading: its title, or what it links."""
    model = tracked.model
    if model is Partnership or model is CoalitionMembership:
        organization = names.get((Organization, row.organization_id), f"#{row.organization_id}")
        role = dict(model._meta.get_field("role").flatchoices).get(row.role, row.role)
        return f"{organization} ({role})"
    if model is InitiativeLink:
        target = names.get((Initiative, row.to_initiative_id), f"#{row.to_initiative_id}")
        kind = dict(InitiativeLink.Kind.choices).get(row.kind, row.kind)
        return f"{kind} {target}"
    if model is Measurement:
        indicator = names.get((Indicator, row.indicator_id), "")
        return f"{indicator}: {row.measured_on}" if indicator else str(row.measured_on)
    for name in ("title", "name"):
        if getattr(row, name, ""):
            return str(getattr(row, name))
    return str(model._meta.verbose_name)


# ------------------------------------------------------------------------------
# Restoring
# ------------------------------------------------------------------------------

# What a restore puts back. A jurisdiction's parent is not among them: moving a
# place in the tree moves everything below it, which is staff's work in the admin.
ORGANIZATION_FIELDS = (
    "name",
    "slug",
    "kind",
    "jurisdiction",
    "website",
    "description",
    "source_url",
    "is_illustrative",
)
COALITION_FIELDS = (
    "jurisdiction",
    "name",
    "slug",
    "description",
    "founded_on",
    "website",
    "source_url",
    "is_illustrative",
)
MEMBERSHIP_FIELDS = ("organization", "role", "since", "until", "source_url")
JURISDICTION_FIELDS = (
    "kind",
    "name",
    "slug",
    "ocd_id",
    "ocd_id_minted",
    "iso_code",
    "geonames_id",
    "wikidata_qid",
    "population",
    "latitude",
    "longitude",
    "boundary",
    "website",
    "description",
    "time_zone",
    "source_url",
    "is_illustrative",
)


def restore_reason(when: datetime.datetime) -> str:
    return f"restored the version of {when:%Y-%m-%d %H:%M:%S}"


def _latest_as_of(
    model: type[models.Model], when: datetime.datetime, **lookup: Any
) -> dict[Any, HistoryRow]:
    """The last history row at ``when`` of each row of ``model`` that existed then, by id."""
    latest: dict[Any, HistoryRow] = {}
    rows = history_model(model).objects.filter(history_date__lte=when, **lookup)  # type: ignore[attr-defined]
    for row in rows.order_by("history_date", "history_id"):
        latest[row.id] = row
    return {pk: row for pk, row in latest.items() if row.history_type != "-"}


def _copy(instance: models.Model, row: HistoryRow, names: Iterable[str]) -> bool:
    """Set ``names`` on ``instance`` from the history ``row``; True when anything differed."""
    changed = False
    for name in names:
        attname = instance._meta.get_field(name).attname  # type: ignore[union-attr]
        value = getattr(row, attname)
        if getattr(instance, attname) != value:
            setattr(instance, attname, value)
            changed = True
    return changed


def _version_at[M: models.Model](record: M, when: datetime.datetime) -> HistoryRow:
    row = _latest_as_of(type(record), when, id=record.pk).get(record.pk)
    if row is None:
        raise ValidationError(_("This record did not exist at that time."), code="no_version")
    return row


def _restore_fields[M: models.Model](
    record: M, *, when: datetime.datetime, names: Sequence[str], actor: AbstractBaseUser
) -> M:
    if not permissions.can_restore(actor, record):
        raise PermissionDenied(_("You may not restore this record."))
    locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
    version = _version_at(locked, when)
    if _copy(locked, version, names):
        # The version may name another jurisdiction; it must be one the actor acts on too.
        if not permissions.can_restore(actor, locked):
            raise PermissionDenied(_("You may not restore this record."))
        save_with_history(locked, actor=actor, reason=restore_reason(when))
    return locked


@transaction.atomic
def organization_restore(
    *, organization: Organization, when: datetime.datetime, actor: AbstractBaseUser
) -> Organization:
    """Put back ``organization``'s fields as they were at ``when``, as a new version."""
    return _restore_fields(organization, when=when, names=ORGANIZATION_FIELDS, actor=actor)


@transaction.atomic
def jurisdiction_restore(
    *, jurisdiction: Jurisdiction, when: datetime.datetime, actor: AbstractBaseUser
) -> Jurisdiction:
    """
    Put back ``jurisdiction``'s profile as it was at ``when``; its place in the tree stays.

    A council restores only what its profile form lets it edit: its name, slug,
    identifiers and boundary are the Atlas staff's, who restore all of it.
    """
    names = (
        JURISDICTION_FIELDS if permissions.is_atlas_staff(actor) else JURISDICTION_PROFILE_FIELDS
    )
    return _restore_fields(jurisdiction, when=when, names=names, actor=actor)


@transaction.atomic
def coalition_restore(
    *, coalition: Coalition, when: datetime.datetime, actor: AbstractBaseUser
) -> Coalition:
    """
    Put back ``coalition`` and its memberships as they were at ``when``, as a new version.

    Memberships are written first and the coalition last, as the record services do,
    so the whole restore reads as one version on the timeline. A membership that
    comes back keeps its old id when that is free, so its own history continues.
    """
    if not permissions.can_restore(actor, coalition):
        raise PermissionDenied(_("You may not restore this record."))
    locked = Coalition.objects.select_for_update().get(pk=coalition.pk)
    version = _version_at(locked, when)
    wanted = _latest_as_of(CoalitionMembership, when, coalition_id=locked.pk)
    existing = {m.pk: m for m in CoalitionMembership.objects.filter(coalition=locked)}
    changed = False
    # Removals first, so a membership added back does not trip the unique constraint.
    for pk, membership in existing.items():
        if pk not in wanted:
            delete_with_history(instance=membership, actor=actor)
            changed = True
    for pk, row in wanted.items():
        found = existing.get(pk)
        if found is None:
            membership = CoalitionMembership(coalition=locked)
            if not CoalitionMembership.objects.filter(pk=pk).exists():
                membership.pk = pk
            _copy(membership, row, MEMBERSHIP_FIELDS)
        elif _copy(found, row, MEMBERSHIP_FIELDS):
            membership = found
        else:
            continue
        save_with_history(membership, actor=actor)
        changed = True
    fields_changed = _copy(locked, version, COALITION_FIELDS)
    if fields_changed and not permissions.can_restore(actor, locked):
        raise PermissionDenied(_("You may not restore this record."))
    if changed or fields_changed:
        save_with_history(locked, actor=actor, reason=restore_reason(when))
    return locked


def restore_version(
    *, record: models.Model, when: datetime.datetime, actor: AbstractBaseUser
) -> models.Model:
    """Restore ``record`` as of ``when`` with the service its kind calls for."""
    match record:
        case Initiative() | Plan():
            return workflow.record_restore(record=record, when=when, actor=actor)
        case Organization():
            return organization_restore(organization=record, when=when, actor=actor)
        case Coalition():
            return coalition_restore(coalition=record, when=when, actor=actor)
        case Jurisdiction():
            return jurisdiction_restore(jurisdiction=record, when=when, actor=actor)
    raise ValueError(f"{type(record).__name__} cannot be restored.")


# ------------------------------------------------------------------------------
# The audit log
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    """One history row, as the audit log and the dashboard list it."""

    when: datetime.datetime
    actor_name: str
    kind: str  # the model's label, such as "initiatives.milestone"
    kind_label: str
    record_label: str
    record_url: str
    action: str  # "created", "changed", "deleted" or the change's stated reason


type JurisdictionScope = QuerySet[Jurisdiction] | Iterable[Jurisdiction]


@dataclass(frozen=True)
class AuditSource:
    model: type[models.Model]
    # The rows of this model that belong to the given jurisdictions.
    scope: Callable[[Any], Q]

    @property
    def kind(self) -> str:
        return self.model._meta.label_lower

    @property
    def label(self) -> str:
        return _capital(str(self.model._meta.verbose_name))


def _initiative_ids(jurisdictions: Any) -> QuerySet[Any]:
    # From the history, so the children of a deleted initiative still count.
    rows = history_model(Initiative).objects.filter(jurisdiction_id__in=jurisdictions)  # type: ignore[attr-defined]
    return rows.values("id")


def _own(jurisdictions: Any) -> Q:
    return Q(jurisdiction_id__in=jurisdictions)


def _audit_sources() -> tuple[AuditSource, ...]:
    def children(jurisdictions: Any) -> Q:
        return Q(initiative_id__in=_initiative_ids(jurisdictions))

    return (
        AuditSource(Initiative, _own),
        AuditSource(Milestone, children),
        AuditSource(Indicator, children),
        AuditSource(
            Measurement,
            lambda j: Q(
                indicator_id__in=history_model(Indicator)
                .objects.filter(initiative_id__in=_initiative_ids(j))  # type: ignore[attr-defined]
                .values("id")
            ),
        ),
        AuditSource(Partnership, children),
        AuditSource(Source, children),
        AuditSource(InitiativeLink, lambda j: Q(from_initiative_id__in=_initiative_ids(j))),
        AuditSource(Plan, _own),
        AuditSource(
            Revision,
            lambda j: (
                Q(initiative_id__in=_initiative_ids(j))
                | Q(
                    plan_id__in=history_model(Plan)
                    .objects.filter(jurisdiction_id__in=j)  # type: ignore[attr-defined]
                    .values("id")
                )
            ),
        ),
        AuditSource(Organization, _own),
        AuditSource(Coalition, _own),
        AuditSource(
            CoalitionMembership,
            lambda j: Q(
                coalition_id__in=history_model(Coalition)
                .objects.filter(jurisdiction_id__in=j)  # type: ignore[attr-defined]
                .values("id")
            ),
        ),
        AuditSource(CouncilMembership, _own),
        AuditSource(Jurisdiction, lambda j: Q(id__in=j)),
        AuditSource(Contribution, _own),
    )


AUDIT_SOURCES = _audit_sources()


def audit_kind_choices() -> list[tuple[str, str]]:
    return [(source.kind, source.label) for source in AUDIT_SOURCES]


def _day_start(day: datetime.date | datetime.datetime) -> datetime.datetime:
    if isinstance(day, datetime.datetime):
        return day
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _day_end(day: datetime.date | datetime.datetime) -> datetime.datetime:
    if isinstance(day, datetime.datetime):
        return day
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))


def audit_entries(
    *,
    jurisdictions: JurisdictionScope,
    actor: str | None = None,
    since: datetime.date | datetime.datetime | None = None,
    until: datetime.date | datetime.datetime | None = None,
    kind: str | None = None,
    before: datetime.datetime | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """
    Every history row of the records of ``jurisdictions``, newest first.

    ``actor`` is a username; ``since`` and ``until`` are days (both included) or
    moments; ``before`` is a moment, excluded (the cursor of the next page);
    ``kind`` is a model label from ``audit_kind_choices()``. One query per kind
    of record, each cut at ``limit``, merged here, then a few queries naming the
    parents of child rows.
    """
    scope: Any = (
        jurisdictions.values("pk")
        if isinstance(jurisdictions, QuerySet)
        else [j.pk for j in jurisdictions]
    )
    rows: list[tuple[AuditSource, HistoryRow]] = []
    for source in AUDIT_SOURCES:
        if kind and source.kind != kind:
            continue
        queryset = (
            history_model(source.model)
            .objects.filter(source.scope(scope))  # type: ignore[attr-defined]
            .select_related("history_user")
            .order_by("-history_date", "-history_id")
        )
        if actor:
            queryset = queryset.filter(history_user__username=actor)
        if since is not None:
            queryset = queryset.filter(history_date__gte=_day_start(since))
        if until is not None:
            queryset = queryset.filter(history_date__lte=_day_end(until))
        if before is not None:
            queryset = queryset.filter(history_date__lt=before)
        if limit is not None:
            queryset = queryset[:limit]
        rows.extend((source, row) for row in queryset)
    rows.sort(key=lambda pair: pair[1].history_date, reverse=True)
    if limit is not None:
        rows = rows[:limit]
    parents = _Parents.read(rows)
    return [_entry(source, row, parents) for source, row in rows]


@dataclass
class _Parents:
    """Titles and slugs of the records that the listed child rows belong to."""

    initiatives: dict[Any, tuple[str, str]]
    plans: dict[Any, tuple[str, str]]
    coalitions: dict[Any, tuple[str, str]]
    indicators: dict[Any, Any]  # indicator id -> initiative id
    users: dict[Any, str]

    @classmethod
    def read(cls, rows: Sequence[tuple[AuditSource, HistoryRow]]) -> _Parents:
        def ids(*models_: type[models.Model], attname: str) -> set[Any]:
            return {getattr(r, attname) for s, r in rows if s.model in models_}

        indicator_ids = ids(Measurement, attname="indicator_id")
        indicators = (
            dict(Indicator.objects.filter(pk__in=indicator_ids).values_list("pk", "initiative_id"))
            if indicator_ids
            else {}
        )
        initiative_ids = (
            ids(Milestone, Indicator, Partnership, Source, attname="initiative_id")
            | ids(InitiativeLink, attname="from_initiative_id")
            | {r.initiative_id for s, r in rows if s.model is Revision and r.initiative_id}
            | set(indicators.values())
        )
        plan_ids = {r.plan_id for s, r in rows if s.model is Revision and r.plan_id}
        coalition_ids = ids(CoalitionMembership, attname="coalition_id")
        user_ids = ids(CouncilMembership, attname="user_id")
        return cls(
            initiatives=_titles(Initiative, initiative_ids, "title"),
            plans=_titles(Plan, plan_ids, "title"),
            coalitions=_titles(Coalition, coalition_ids, "name"),
            indicators=indicators,
            users=(
                dict(
                    get_user_model()
                    .objects.filter(pk__in=user_ids)
                    .values_list("pk", get_user_model().USERNAME_FIELD)
                )
                if user_ids
                else {}
            ),
        )


def _titles(model: type[models.Model], ids: set[Any], name: str) -> dict[Any, tuple[str, str]]:
    if not ids:
        return {}
    return {
        pk: (title, slug)
        for pk, title, slug in model._default_manager.filter(pk__in=ids).values_list(
            "pk", name, "slug"
        )
    }


def history_url(kind: str, slug: str) -> str:
    return reverse("council:history:record-history", kwargs={"kind": kind, "slug": slug})


def _entry(source: AuditSource, row: HistoryRow, parents: _Parents) -> AuditEntry:
    label, url = _audit_label(source.model, row, parents)
    action = {"+": "created", "-": "deleted"}.get(row.history_type, "changed")
    return AuditEntry(
        when=row.history_date,
        actor_name=_actor_name(row),
        kind=source.kind,
        kind_label=source.label,
        record_label=label,
        record_url=url,
        action=row.history_change_reason or action,
    )


def _audit_label(model: type[models.Model], row: HistoryRow, parents: _Parents) -> tuple[str, str]:
    """What the row is about, and the timeline it belongs to ('' when it has none)."""
    for kind, record_model in RECORD_KINDS.items():
        if model is record_model:
            text = getattr(row, "title", "") or getattr(row, "name", "")
            return str(text), history_url(kind, row.slug)
    if model is Revision:
        if row.initiative_id:
            title, slug = parents.initiatives.get(row.initiative_id, ("", ""))
            kind = "initiatives"
        else:
            title, slug = parents.plans.get(row.plan_id, ("", ""))
            kind = "plans"
        return _("Changes to %(title)s") % {"title": title}, history_url(kind, slug) if slug else ""
    if model is CoalitionMembership:
        name, slug = parents.coalitions.get(row.coalition_id, ("", ""))
        own = _("Member of %(coalition)s") % {"coalition": name} if name else ""
        return own, history_url("coalitions", slug) if slug else ""
    if model is CouncilMembership:
        role = dict(CouncilMembership.Role.choices).get(row.role, row.role)
        return f"{parents.users.get(row.user_id, '')} ({role})", ""
    if model is Contribution:
        kind_label = dict(Contribution.Kind.choices).get(row.kind, row.kind)
        return str(row.title or kind_label), ""
    # A child of an initiative.
    if model is Measurement:
        initiative_id = parents.indicators.get(row.indicator_id)
        own = str(row.measured_on)
    else:
        initiative_id = getattr(row, "initiative_id", None) or getattr(
            row, "from_initiative_id", None
        )
        own = str(getattr(row, "title", "") or getattr(row, "name", "") or "")
    title, slug = parents.initiatives.get(initiative_id, ("", ""))
    label = f"{own} · {title}" if own and title else own or title
    return label, history_url("initiatives", slug) if slug else ""


def audit_page(
    *,
    jurisdiction: Jurisdiction,
    per_page: int,
    before: datetime.datetime | None = None,
    actor: str | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    kind: str | None = None,
) -> tuple[list[AuditEntry], datetime.datetime | None]:
    """
    One page of the audit log of ``jurisdiction`` and all below it: the changes
    older than ``before`` (all, without it), and the cursor of the next page.

    Each kind of record reads at most ``per_page + 1`` rows, however deep the
    reader pages. A page never ends inside a group of changes made at the same
    moment, since the next page starts strictly before its cursor.
    """
    filters: dict[str, Any] = {"actor": actor, "kind": kind}
    scope = jurisdiction.descendants(include_self=True)
    entries = audit_entries(
        jurisdictions=scope, since=since, until=until, before=before, limit=per_page + 1, **filters
    )
    if len(entries) <= per_page:
        return entries, None
    shown = entries[:per_page]
    boundary = shown[-1].when
    if entries[per_page].when == boundary:
        earlier = [entry for entry in shown if entry.when != boundary]
        if earlier:
            shown = earlier
        else:
            # A whole page made at one moment (a bulk write): show all of that moment.
            shown = audit_entries(jurisdictions=scope, since=boundary, until=boundary, **filters)
    return shown, shown[-1].when
