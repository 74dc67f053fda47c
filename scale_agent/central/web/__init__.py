"""The supervisors' dashboard and its JSON API (FastAPI, on the Starlette the packer's screen uses).

Pages (signed-in users): `/` the station grid and the live alert feed, `/history` search and
CSV export, `/summary` and `/skus`. The pages are static markup and one script; everything
from outside is set as text. The API (`/api/...`, described at `/openapi.json`) takes a bearer
token or the page's session; a state change from the page must carry the session's CSRF
token (`X-CSRF-Token`). Viewers read; supervisors acknowledge and send commands; every state
change is audited.

One module per concern, FastAPI's layout for bigger applications:

    app.py       the app assembled: headers, static files, the routers
    central.py   what every route shares (`Central`), the signed-in user and the language
    stations.py  the grid, chain heads, commands, the central's own instances and ingest
    alerts.py    alerts, acknowledgements, history and the live feed
    reports.py   the shift summary and the SKU weight feedback
    pages.py     the HTML pages and signing in and out
    models.py    the API's request and answer bodies
"""

from scale_agent.central.web.app import make_app
from scale_agent.central.web.central import Feed

__all__ = ["Feed", "make_app"]
