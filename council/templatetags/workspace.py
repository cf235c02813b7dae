"""Questions the workspace's templates ask of council.permissions."""

from django import template

from council import permissions

register = template.Library()


@register.filter
def reviews_somewhere(user: permissions.AnyUser) -> bool:
    """Whether to offer the review and moderation queues: only reviewers and chairs use them."""
    return permissions.reviews_somewhere(user)
