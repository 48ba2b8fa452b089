"""`manage.py check --deploy` under a given set of settings, read into figures.

Django's deployment checklist as a command: it warns (security.W0xx) about DEBUG on, a weak
SECRET_KEY, missing HTTPS settings and the like. The sample app silences the three HTTPS
warnings that belong to the TLS proxy in front (config/settings.py says why); the count of
silenced checks is part of what the command prints and of the figures.
"""

from __future__ import annotations

import re
from typing import Final

from scripts.records.schema.lesson import DeployCheckFigures
from servers.app import AppSettings, manage

_CHECK_ID: Final = re.compile(r"\((\w+\.[WE]\d{3})\)")
_SILENCED: Final = re.compile(r"\((\d+) silenced\)")


def read_check_output(settings: str, debug: bool, output: str) -> DeployCheckFigures:
    """The figures of one `check --deploy` output."""
    silenced = _SILENCED.search(output)
    return DeployCheckFigures(
        settings=settings,
        debug=debug,
        check_ids=tuple(dict.fromkeys(_CHECK_ID.findall(output))),
        silenced=int(silenced.group(1)) if silenced else 0,
        output=output.strip(),
    )


def deploy_check(name: str, app: AppSettings) -> DeployCheckFigures:
    """Run `manage.py check --deploy` with `app`'s environment (warnings do not fail it)."""
    return read_check_output(name, app.debug, manage(app, "check", "--deploy"))
