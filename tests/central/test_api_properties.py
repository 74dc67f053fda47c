"""Property-based: schemathesis drives the central API from its own OpenAPI; no answer is a 5xx.

Every operation gets generated path, query and body values (with a supervisor's token, so the
requests reach the handlers); the service runs as in production, on a real broker and SQLite.
Schemathesis's pytest plugin does not load under this pytest, so its Python API is used: one
Hypothesis run per operation of the loaded schema.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.central.harness import running_central, write_central

if TYPE_CHECKING:
    from pathlib import Path

    from tests.fakes.mosquitto import Mosquitto


def test_no_generated_request_makes_the_api_fail(tmp_path: Path, broker: Mosquitto) -> None:
    site = f"p{uuid.uuid4().hex[:8]}"
    config = write_central(tmp_path, str(tmp_path / "central.sqlite3"), broker.url, site)
    with running_central(config) as (_, url, tokens):
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        headers = {"Authorization": f"Bearer {tokens['li.wei']}"}
        operations = [
            result.ok()  # type: ignore[union-attr]  # an Err would raise here: the schema is ours
            for result in schema.get_all_operations()
        ]
        assert len(operations) >= 6
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=40,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            )
            def no_server_error(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
                response = case.call(headers=headers)
                assert response.status_code < 500, (
                    case.method,
                    case.formatted_path,
                    response.text[:300],
                )

            no_server_error()
