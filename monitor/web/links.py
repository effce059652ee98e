"""Links between the reader (`monitor web`) and Datasette (`monitor serve`), both ways.

No third-party import here: `monitor serve` uses it without the web extra installed.
"""

from __future__ import annotations

import html
import json

from monitor.configuration.settings import Settings


def reader_url(settings: Settings) -> str:
    """Where people reach the reader: web.base_url, else its configured host and port."""
    if settings.web.base_url:
        return settings.web.base_url + "/"
    host = settings.web.host
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.web.port}/"


def datasette_metadata(template: str, settings: Settings) -> str:
    """Datasette's metadata with a link to the reader added to its description."""
    data = json.loads(template)
    data["description_html"] = (
        f"{html.escape(data.get('description', ''))} <a href=\"{html.escape(reader_url(settings))}"
        "\">Open the reader</a> for stories, their spread across outlets and trends.")
    return json.dumps(data, ensure_ascii=False, indent=1)
