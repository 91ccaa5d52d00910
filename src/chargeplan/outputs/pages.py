"""The Jinja2 templates of the HTML outputs (``outputs/templates/``), escaped by default.

Every value a template prints is HTML-escaped unless the template says otherwise, so a zone,
site or region name read from an input file (``<script>``, ``"><img onerror=...>``) shows as
text and never runs. The templates are package data, read through the package loader, so they
are found the same from a source tree, an installed wheel or a zip.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2


@functools.cache
def environment() -> jinja2.Environment:
    """The shared template environment: autoescaped, strict about missing values."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("chargeplan.outputs", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **values: Any) -> str:
    """Render ``outputs/templates/<template>`` with ``values``.

    Parameters
    ----------
    template
        File name of the template, e.g. ``"report.html.j2"``.
    **values
        The names the template uses.

    Returns
    -------
    str
        The rendered text.
    """
    return environment().get_template(template).render(**values)
