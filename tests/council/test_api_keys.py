"""API keys: made by a service or a command, shown once, stored as a digest, revocable."""

import datetime
import hashlib
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from council.models import ApiKey
from council.services import api_key_create, api_key_revoke
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def create(user: User, *, read_only: bool = True, **options) -> tuple[ApiKey, str]:
    return api_key_create(user=user, read_only=read_only, actor=None, **options)


# ------------------------------------------------------------------ storage


def test_only_the_digest_of_the_secret_is_stored(outsider):
    """The row holds SHA-256 of the secret, and nowhere the secret itself."""
    key, plain = create(outsider)
    secret = plain.removeprefix(f"{key.prefix}_")

    assert key.hashed_key == hashlib.sha256(secret.encode()).hexdigest()
    row = ApiKey.objects.filter(pk=key.pk).values().get()
    assert not any(secret in str(value) for value in row.values())


def test_the_plain_key_is_the_visible_prefix_and_a_long_secret(outsider):
    """``atl_`` plus eight characters is the visible prefix; 43 URL-safe characters follow."""
    key, plain = create(outsider)

    assert key.prefix.startswith("atl_")
    assert len(key.prefix) == 12
    assert plain.startswith(f"{key.prefix}_")
    assert len(plain) == len(key.prefix) + 1 + 43
    assert ApiKey.split(plain) == (key.prefix, plain[13:])


def test_the_secret_cannot_be_read_back_from_a_stored_key(outsider):
    """Nothing on a key loaded from the database gives back the plain key."""
    _, plain = create(outsider)
    loaded = ApiKey.objects.get()

    assert plain not in repr(vars(loaded))
    assert loaded.matches(plain.split("_", 2)[2])


def test_history_leaves_the_digest_out(outsider):
    """The history records who made the key, but not its digest."""
    create(outsider)
    record = ApiKey.history.get()

    assert not hasattr(record, "hashed_key")


def test_prefixes_are_unique(outsider):
    key, _ = create(outsider)

    with pytest.raises(IntegrityError), transaction.atomic():
        ApiKey.objects.create(user=outsider, prefix=key.prefix, hashed_key="0" * 64)


def test_a_key_cannot_expire_before_it_was_made(outsider):
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiKey.objects.create(
            user=outsider,
            prefix="atl_zzzzzzzz",
            hashed_key="0" * 64,
            expires_at=timezone.now() - datetime.timedelta(days=1),
        )


# ------------------------------------------------------------------ who may hold what


def test_anyone_may_hold_a_read_only_key(outsider):
    key, _ = create(outsider, read_only=True)

    assert key.read_only


@pytest.mark.parametrize("fixture", ["chicago_editor", "chicago_reviewer", "staff_user"])
def test_staff_and_council_members_may_hold_a_write_key(request, fixture):
    key, _ = create(request.getfixturevalue(fixture), read_only=False)

    assert not key.read_only


def test_a_user_without_a_council_role_may_not_hold_a_write_key(outsider):
    """A write key acts with its owner's rights; someone without any would hold a useless one."""
    with pytest.raises(ValidationError) as error:
        create(outsider, read_only=False)

    assert error.value.error_dict["read_only"][0].code == "write_key_needs_council_role"


def test_an_inactive_user_may_not_hold_a_key(db):
    with pytest.raises(ValidationError):
        create(UserFactory.create(is_active=False))


def test_a_user_may_not_make_keys_for_someone_else(outsider, chicago_editor):
    with pytest.raises(PermissionDenied):
        api_key_create(user=chicago_editor, read_only=True, actor=outsider)


def test_staff_may_make_keys_for_anyone(outsider, staff_user):
    key, _ = api_key_create(user=outsider, read_only=True, actor=staff_user)

    assert key.user == outsider
    assert key.history.get().history_user == staff_user


# ------------------------------------------------------------------ expiry and revocation


def test_a_key_with_days_to_live_expires_then(outsider):
    with time_machine.travel(datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC), tick=False):
        key, _ = create(outsider, expires_in_days=30)

    assert key.expires_at == datetime.datetime(2026, 3, 31, 12, tzinfo=datetime.UTC)
    assert key.is_usable(datetime.datetime(2026, 3, 31, 11, 59, tzinfo=datetime.UTC))
    assert not key.is_usable(datetime.datetime(2026, 3, 31, 12, tzinfo=datetime.UTC))


def test_a_key_must_live_at_least_a_day(outsider):
    with pytest.raises(ValidationError):
        create(outsider, expires_in_days=0)


def test_revoking_a_key_records_when_and_who(outsider, staff_user):
    key, _ = create(outsider)

    revoked = api_key_revoke(key=key, actor=staff_user)

    assert revoked.revoked_at is not None
    assert not revoked.is_usable(timezone.now())
    latest = revoked.history.first()
    assert latest.history_user == staff_user
    assert latest.history_change_reason == "revoked"


def test_revoking_twice_keeps_the_first_revocation(outsider):
    key, _ = create(outsider)
    first = api_key_revoke(key=key, actor=outsider).revoked_at

    again = api_key_revoke(key=key, actor=outsider)

    assert again.revoked_at == first
    assert key.history.count() == 2


def test_a_user_may_not_revoke_someone_elses_key(outsider, chicago_editor):
    key, _ = create(chicago_editor)

    with pytest.raises(PermissionDenied):
        api_key_revoke(key=key, actor=outsider)


# ------------------------------------------------------------------ last use


def test_last_use_is_written_at_most_once_a_minute(outsider):
    """Uses within a minute of the last stamp write nothing; a later use writes again."""
    key, _ = create(outsider)
    start = timezone.now()
    key.touch(start)

    with CaptureQueriesContext(connection) as queries:
        key.touch(start + datetime.timedelta(seconds=59))
    assert len(queries) == 0

    key.touch(start + datetime.timedelta(seconds=61))
    key.refresh_from_db()
    assert key.last_used_at == start + datetime.timedelta(seconds=61)


def test_a_stale_copy_does_not_overwrite_a_fresher_stamp(outsider):
    """Two workers holding the same old row: only the first writes."""
    key, _ = create(outsider)
    stale = ApiKey.objects.get(pk=key.pk)
    now = timezone.now()
    key.touch(now)

    stale.touch(now + datetime.timedelta(seconds=10))

    key.refresh_from_db()
    assert key.last_used_at == now


# ------------------------------------------------------------------ create_api_key


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_prints_the_key_once_with_a_warning(outsider):
    """stdout carries the key alone; stderr says it will not be shown again."""
    out, err = run("--user", "outsider", "--read-only", "--name", "dashboard")

    plain = out.strip()
    key = ApiKey.objects.get()
    assert ApiKey.split(plain) is not None
    assert key.matches(plain.split("_", 2)[2])
    assert key.name == "dashboard"
    assert key.read_only
    assert "will not be shown again" in err
    assert plain not in err


def test_the_command_sets_an_expiry(outsider):
    run("--user", "outsider", "--read-only", "--expires", "7")

    key = ApiKey.objects.get()
    assert key.expires_at is not None
    assert key.expires_at - key.created_at == pytest.approx(
        datetime.timedelta(days=7), abs=datetime.timedelta(seconds=5)
    )


def test_the_command_makes_write_keys_for_council_members(chicago_editor):
    run("--user", "chicago-editor")

    assert not ApiKey.objects.get().read_only


def test_the_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="nobody"):
        run("--user", "nobody")


def test_the_command_refuses_a_write_key_without_a_council_role(outsider):
    with pytest.raises(CommandError, match="council members"):
        run("--user", "outsider")
    assert not ApiKey.objects.exists()


# ------------------------------------------------------------------ admin


def changelist(client, user: User):
    client.force_login(user)
    return client.get(reverse("admin:council_apikey_changelist"))


def test_staff_see_every_key_in_the_admin(client, staff_user, outsider, chicago_editor):
    create(outsider)
    create(chicago_editor)

    response = changelist(client, staff_user)

    assert response.context["cl"].result_count == 2


def test_a_council_member_sees_only_their_own_keys(client, chicago_editor, nyc_editor):
    own, _ = create(chicago_editor)
    other, _ = create(nyc_editor)

    response = changelist(client, chicago_editor)

    assert list(response.context["cl"].queryset) == [own]
    client.force_login(chicago_editor)
    detail = client.get(reverse("admin:council_apikey_change", args=[other.pk]))
    assert detail.status_code == 302  # Django's "does not exist" redirect to the index


def test_the_admin_never_shows_the_digest(client, staff_user, outsider):
    key, _ = create(outsider)
    client.force_login(staff_user)

    for url in (
        reverse("admin:council_apikey_changelist"),
        reverse("admin:council_apikey_change", args=[key.pk]),
        reverse("admin:council_apikey_history", args=[key.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert key.hashed_key not in response.content.decode(), url


def test_the_admin_makes_a_key_and_shows_it_once(client, chicago_editor):
    """A council member makes their own write key; the next page shows it, later ones do not."""
    client.force_login(chicago_editor)

    response = client.post(
        reverse("admin:council_apikey_add"),
        {"user": chicago_editor.pk, "name": "council tool", "expires_in_days": "30"},
        follow=True,
    )

    key = ApiKey.objects.get()
    assert not key.read_only
    assert key.user == chicago_editor
    shown = [str(m) for m in response.context["messages"]]
    plain = next(text for text in shown if key.prefix in text).split("<code>")[1].split("<")[0]
    assert key.matches(plain.split("_", 2)[2])
    later = client.get(reverse("admin:council_apikey_change", args=[key.pk]))
    assert plain not in later.content.decode()


def test_a_council_member_cannot_make_a_key_for_someone_else(client, chicago_editor, outsider):
    client.force_login(chicago_editor)

    response = client.post(
        reverse("admin:council_apikey_add"), {"user": outsider.pk, "read_only": "on"}
    )

    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()


def test_the_admin_refuses_a_write_key_for_a_user_without_a_role(client, staff_user, outsider):
    client.force_login(staff_user)

    response = client.post(reverse("admin:council_apikey_add"), {"user": outsider.pk})

    assert "read_only" in response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()


def test_the_revoke_action_revokes_the_selected_keys(client, chicago_editor):
    key, _ = create(chicago_editor)
    client.force_login(chicago_editor)

    client.post(
        reverse("admin:council_apikey_changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
    )

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.history.first().history_user == chicago_editor
