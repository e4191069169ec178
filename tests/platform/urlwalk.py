"""Walks the tenant URLconf so that tests cover every route, including routes added by later features."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str  # the joined route, e.g. "crm/companies/<int:pk>/"
    converters: dict  # parameter name -> converter instance
    default_kwargs: dict


def tenant_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns, prefix: str, namespace: str, converters: dict):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(
                    entry.url_patterns,
                    prefix + str(entry.pattern),
                    ns,
                    {**converters, **entry.pattern.converters},
                )
            elif isinstance(entry, URLPattern):
                routes.append(
                    Route(
                        name=f"{namespace}{entry.name}" if entry.name else str(entry.pattern),
                        pattern=prefix + str(entry.pattern),
                        converters={**converters, **entry.pattern.converters},
                        default_kwargs=dict(entry.default_args),
                    )
                )

    walk(get_resolver("commerce_hub.urls_tenant").url_patterns, "", "", {})
    return [r for r in routes if not r.pattern.startswith("static/")]


def fill(route: Route, value_for) -> str:
    """Build a path, asking value_for(name, converter) for each parameter."""
    path = route.pattern
    for name, converter in route.converters.items():
        token = re.search(rf"<(?:[\w]+:)?{name}>", path).group(0)
        # Converters with a fixed vocabulary (e.g. companies|contacts|deals) say which value is valid.
        example = getattr(converter, "example", None)
        value = example if example is not None else value_for(name, converter)
        path = path.replace(token, str(value))
    return "/" + path
