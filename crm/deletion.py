"""Deletion guards: apps above the CRM refuse the deletion of records their documents depend on.

The CRM does not know billing (it sits below it), yet deleting a company must not strip a finalized invoice of its
buyer. Billing registers a guard from its AppConfig; every delete path (one record, or many at once) asks the
guards inside its transaction and deletes nothing when any of them objects.
"""

from collections.abc import Callable, Sequence

from django.core.exceptions import ValidationError

# guard(object_type, ids) -> the reasons these records cannot be deleted, as full translated sentences ([] = fine).
DeletionGuard = Callable[[str, Sequence[int]], list[str]]

_guards: dict[str, DeletionGuard] = {}


def register_deletion_guard(name: str, guard: DeletionGuard) -> None:
    _guards[name] = guard


def deletion_blockers(*, object_type: str, ids: Sequence[int]) -> list[str]:
    return [reason for _name, guard in sorted(_guards.items()) for reason in guard(object_type, ids)]


def deletion_check(*, object_type: str, ids: Sequence[int]) -> None:
    """Raise a ValidationError with every reason when any guard objects to deleting these records."""
    reasons = deletion_blockers(object_type=object_type, ids=ids)
    if reasons:
        raise ValidationError(reasons, code="deletion_blocked")
