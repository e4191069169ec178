"""What each app adds to the platform, registered from its own AppConfig.ready().

The platform never imports the apps above it (crm, billing, payments, integrations), so it cannot list their menu
entries, permissions, queues or periodic jobs. Each app hands them to these registries instead; the shell, the role
backend, the permission sync and the Celery app read them. Adding an app is a line in INSTALLED_APPS and an
AppConfig, never an edit here.

Registration happens during django.setup(), once per process. Registering the same name twice replaces the entry,
so a ready() that runs again (tests that reload apps) does not duplicate anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# --- navigation ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavSection:
    key: str
    label: str  # a lazy translation; "" for the untitled top section (Home)
    order: int


@dataclass(frozen=True)
class NavEntry:
    key: str  # matches the `active_nav` a page sets, which highlights the entry
    label: str
    section: str
    order: int
    # (permissions the user needs, all of them; URL name). The first target the user may open is the link, and the
    # entry shows when there is one: Settings opens the company profile, or users, or the audit log.
    targets: tuple[tuple[tuple[str, ...], str], ...]
    # Highlighted on pages that set no active_nav (Home).
    is_default: bool = False


@dataclass(frozen=True)
class NavLink:
    key: str
    label: str
    url: str
    is_default: bool


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: str
    links: list[NavLink] = field(default_factory=list)


_nav_sections: dict[str, NavSection] = {}
_nav_entries: dict[str, NavEntry] = {}


def register_nav_section(*, key: str, label, order: int) -> None:
    _nav_sections[key] = NavSection(key=key, label=label, order=order)


def register_nav_entry(
    *,
    key: str,
    label,
    section: str,
    order: int,
    url_name: str = "",
    permission: str | Iterable[str] = (),
    targets: Iterable[tuple[str | Iterable[str], str]] = (),
    is_default: bool = False,
) -> None:
    """One menu link. Give `url_name` and `permission` (one name, or several that are all needed), or `targets`
    for an entry whose link depends on what the user may do."""
    pairs = list(targets) or [(permission, url_name)]
    normalized = tuple(((perms,) if isinstance(perms, str) else tuple(perms), url) for perms, url in pairs)
    _nav_entries[key] = NavEntry(
        key=key, label=label, section=section, order=order, targets=normalized, is_default=is_default
    )


def nav_for(user) -> list[NavGroup]:
    """The menu this user sees: sections in order, each with the entries the user may open; empty sections drop."""
    from django.urls import reverse

    groups = []
    for section in sorted(_nav_sections.values(), key=lambda s: (s.order, s.key)):
        links = []
        entries = sorted((e for e in _nav_entries.values() if e.section == section.key), key=lambda e: e.order)
        for entry in entries:
            url_name = next((url for perms, url in entry.targets if user.has_perms([p for p in perms if p])), None)
            if url_name is not None:
                link = NavLink(key=entry.key, label=entry.label, url=reverse(url_name), is_default=entry.is_default)
                links.append(link)
        if links:
            groups.append(NavGroup(key=section.key, label=section.label, links=links))
    return groups


# --- settings tabs ------------------------------------------------------------------------------------------------

_settings_tabs: dict[str, NavEntry] = {}


def register_settings_tab(*, key: str, label, order: int, url_name: str, permission: str) -> None:
    """One tab on the settings pages; `key` matches the `settings_tab` a settings page sets."""
    _settings_tabs[key] = NavEntry(
        key=key, label=label, section="settings", order=order, targets=(((permission,), url_name),)
    )


def settings_tabs_for(user) -> list[NavLink]:
    """The settings tabs this user may open, in order."""
    from django.urls import reverse

    tabs = sorted(_settings_tabs.values(), key=lambda t: (t.order, t.key))
    return [
        NavLink(key=tab.key, label=tab.label, url=reverse(url_name), is_default=False)
        for tab in tabs
        for perms, url_name in tab.targets[:1]
        if user.has_perms(perms)
    ]


# --- placeholder pages ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceholderPage:
    """An empty state for a module whose pages are not built yet: /<slug>/, named module_<slug with underscores>.
    The app that will own the module registers it, and replaces it with real pages when they exist."""

    slug: str
    title: str
    permission: str
    empty_title: str
    empty_text: str


_placeholders: dict[str, PlaceholderPage] = {}


def register_placeholder_page(*, slug: str, title, permission: str, empty_title, empty_text) -> None:
    _placeholders[slug] = PlaceholderPage(slug, title, permission, empty_title, empty_text)


def placeholder_pages() -> dict[str, PlaceholderPage]:
    return dict(_placeholders)


# --- permissions and the roles that grant them --------------------------------------------------------------------


@dataclass(frozen=True)
class PermissionSpec:
    codename: str  # checked as accounts.<codename>
    label: str
    app: str
    # Roles (accounts.roles.Role values) that grant it by default; Admin grants every permission.
    roles: frozenset[str]


_permissions: dict[str, PermissionSpec] = {}


def register_permissions(app: str, permissions: Iterable[tuple[str, str, Iterable[str]]]) -> None:
    """(codename, label, roles that grant it) for each permission the app checks."""
    for codename, label, roles in permissions:
        existing = _permissions.get(codename)
        if existing is not None and existing.app != app:
            raise ValueError(f"Permission {codename} is registered by both {existing.app} and {app}.")
        _permissions[codename] = PermissionSpec(codename=codename, label=label, app=app, roles=frozenset(roles))


def registered_permissions() -> list[PermissionSpec]:
    return list(_permissions.values())


# --- Celery queues, routes and beat -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueSpec:
    name: str
    # Task name patterns (Celery glob syntax) routed to this queue.
    routes: tuple[str, ...]


_queues: dict[str, QueueSpec] = {}
_beat: dict[str, dict] = {}


def register_queue(name: str, *, routes: Iterable[str] = ()) -> None:
    """One queue per workload, so a slow sync never holds up an email."""
    _queues[name] = QueueSpec(name=name, routes=tuple(routes))


def registered_queues() -> list[QueueSpec]:
    return list(_queues.values())


def register_beat(name: str, *, task: str, schedule, **options) -> None:
    """A periodic job. `schedule` is seconds or a celery.schedules.crontab."""
    _beat[name] = {"task": task, "schedule": schedule, **options}


def registered_beat() -> dict[str, dict]:
    return dict(_beat)


# --- URLs -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UrlMount:
    prefix: str  # "payments/"
    module: str  # the app's urls module, with its app_name
    public: bool  # on the public site (third parties posting to the platform) instead of a tenant's


_urls: dict[tuple[str, bool], UrlMount] = {}


def register_urls(prefix: str, module: str, *, public: bool = False) -> None:
    """Mount an app's URLs under `prefix` on every tenant's site, or on the public site."""
    _urls[(prefix, public)] = UrlMount(prefix=prefix, module=module, public=public)


def registered_urls(*, public: bool) -> list[UrlMount]:
    return [mount for mount in _urls.values() if mount.public == public]
