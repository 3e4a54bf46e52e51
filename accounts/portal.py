"""The sections of the "my account" page. Each app registers what it shows there from its AppConfig.ready(),
so the page grows with the apps without knowing them."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PortalSection:
    order: int
    template: str
    context: Callable  # (request) -> dict


_sections: list[PortalSection] = []


def portal_section_register(*, order: int, template: str, context: Callable) -> None:
    if any(section.template == template for section in _sections):
        return
    _sections.append(PortalSection(order=order, template=template, context=context))
    _sections.sort(key=lambda section: section.order)


def portal_sections(request) -> list[dict]:
    return [{"template": section.template, **section.context(request)} for section in _sections]
