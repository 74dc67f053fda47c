"""The MQTT contract's JSON Schemas in docs/ are the models' schemas, not an old copy."""

from __future__ import annotations

import json

from scale_agent.io.schemas import json_schemas
from tests.conftest import REPO


def test_committed_schemas_match_the_payload_models() -> None:
    folder = REPO / "docs" / "schemas"
    committed = {path.name: json.loads(path.read_text()) for path in folder.glob("*.json")}
    assert committed == json_schemas(), "run: scale-agent schema --out docs/schemas"


def test_every_payload_names_its_schema_and_carries_a_message_id() -> None:
    for name, schema in json_schemas().items():
        properties = schema["properties"]
        assert "schema_id" in properties, name
        # What reaches a station from outside names no sender station: command, job, the
        # central's evidence_ack (it goes to the station it names in its topic).
        if name not in {"command.schema.json", "job.schema.json", "evidence_ack.schema.json"}:
            assert {"msg_id", "sent_at", "site", "line", "station"} <= set(properties), name
