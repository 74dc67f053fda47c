"""Nothing from outside can crash, fool or silence a station (issue 12).

Generated hostile payloads (deep nesting, huge and non-finite numbers, wrong types, control
characters, invalid UTF-8) go to every parser of outside input; each either accepts the input
or refuses it with the error its caller handles, never anything else. Then the worst of them
go to a running daemon over a real Mosquitto, and a correct parcel still weighs to PASS.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

import paho.mqtt.publish as mqtt_publish
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scale_agent.domain.catalog import load_catalog
from scale_agent.domain.jobs import parse_job
from scale_agent.domain.scan_rules import ScanRules, classify
from scale_agent.domain.untrusted import load_json
from scale_agent.errors import JobError, PayloadError
from scale_agent.io.order_sources import OrderCache
from scale_agent.testing import wait_until
from scale_agent.tools.monitor import MonitorState
from tests.conftest import REPO
from tests.fakes.daemon import Daemon
from tests.fakes.mosquitto import Subscriber
from tests.station_files import write_station

if TYPE_CHECKING:
    from pathlib import Path

    from tests.fakes.mosquitto import Mosquitto
    from tests.fakes.mt_sics_scale import FakeMtSicsScale

CATALOG = load_catalog(REPO / "config" / "catalog.example.csv")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["-300g", "0g", "1e999g", "NaN", "\x1b[2J", "150g", "SKU-1023", "2"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["order_id", "lines", "sku", "qty", "carton", "tare", "command", "x"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


def _nested(depth: int, opener: str) -> str:
    if opener == "[":
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


HOSTILE_TEXTS = st.one_of(
    json_values.map(json.dumps),
    st.integers(min_value=17, max_value=5000).map(lambda n: _nested(n, "[")),
    st.integers(min_value=17, max_value=5000).map(lambda n: _nested(n, "{")),
    st.sampled_from(
        [
            "NaN",
            "[Infinity]",
            '{"order_id": "SO-1", "lines": [{"sku": "A", "qty": 1e999}]}',
            '{"order_id": "SO-1", "lines": [{"sku": "A", "qty": ' + "9" * 5000 + "}]}",
            '{"order_id": "SO-1", "lines": [{"sku": "A", "qty": true}]}',
            '{"order_id": "\\u001b[2J", "lines": []}',
            "",
            "{",
        ]
    ),
)
HOSTILE_BYTES = st.one_of(
    HOSTILE_TEXTS.map(str.encode), st.binary(max_size=64), st.just(b"\xff\xfe\x00")
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE_BYTES)
def test_every_order_parser_refuses_hostile_input_with_a_job_error(data: bytes) -> None:
    with contextlib.suppress(JobError):
        parse_job(data)


@settings(max_examples=300, deadline=None)
@given(HOSTILE_BYTES)
def test_untrusted_json_raises_only_payload_errors(data: bytes) -> None:
    with contextlib.suppress(PayloadError):
        load_json(data)


@settings(max_examples=200, deadline=None)
@given(HOSTILE_BYTES, st.sampled_from(["status", "health", "alert", "event", "weight"]))
def test_the_monitor_never_raises_on_a_hostile_message(data: bytes, kind: str) -> None:
    state = MonitorState()
    lines = state.handle(f"scale-agent/v1/s/l/b/{kind}", data)
    assert all("\x1b" not in line for line in lines)
    state.screen("mqtt://broker:1883", is_connected=True)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(HOSTILE_BYTES)
def test_the_orders_cache_refuses_hostile_pushes(tmp_path: Path, data: bytes) -> None:
    cache = OrderCache(tmp_path)
    try:
        cache.put(data)
    except JobError:
        pass
    finally:
        cache.close()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_scanner_text_is_classified_never_raised(code: str) -> None:
    classify(code, ScanRules(), CATALOG)


WORST: list[tuple[str, bytes, bool]] = [
    ("job", b"[" * 1500 + b"]" * 1500, True),  # retained: it is read again on every start
    ("command", b"[" * 1500 + b"]" * 1500, False),
    (
        "job",
        (
            b'{"order_id": "SO-E", "lines": [{"sku": "SKU-1023", "qty": 1}],'
            b' "carton": {"id": "B", "tare": "-300g"}}'
        ),
        False,
    ),
    ("job", b'{"order_id": "SO-Q", "lines": [{"sku": "SKU-1023", "qty": true}]}', False),
    ("job", b'{"order_id": "SO-N", "lines": [{"sku": "SKU-1023", "qty": 1e999}]}', False),
    ("job", b"\xff\xfe not utf-8", False),
    ("command", b'{"command": "override", "operator": "\\u001b[2J", "reason": NaN}', False),
    (
        "job",
        json.dumps({"order_id": "SO-BIG", "lines": [{"sku": "SKU-1023", "qty": 9999}]}).encode(),
        False,
    ),  # 1.5 t on a 6 kg scale
]


def test_a_running_daemon_survives_the_worst_payloads_and_still_passes_a_parcel(
    tmp_path: Path, scale: FakeMtSicsScale, own_broker: Mosquitto
) -> None:
    config = write_station(tmp_path, scale.path, own_broker.url, site="hostile")
    device = f'port = "{scale.path}"'
    config.write_text(config.read_text().replace(device, f'{device}\ncapacity = "6kg"'))
    root = "scale-agent/v1/hostile/line-1/bench-1"
    events = Subscriber(own_broker.port, f"{root}/#", session_id="hostile-events")
    daemon = Daemon(config, tmp_path / "data")

    def send(topic: str, payload: bytes, retain: bool = False) -> None:
        mqtt_publish.single(
            f"{root}/{topic}",
            payload,
            qos=1,
            retain=retain,
            hostname="127.0.0.1",
            port=own_broker.port,
        )

    def rejections() -> list[dict[str, Any]]:
        return [json.loads(p) for t, p, _ in events.messages if t.endswith("/event")]

    def online(count: int) -> None:
        events.wait_for(
            lambda m: sum(t.endswith("/status") and b'"online"' in p for t, p, _ in m) >= count,
            timeout=20,
        )

    try:
        daemon.start()
        online(1)
        for topic, payload, retain in WORST:
            send(topic, payload, retain)
        wait_until(lambda: len(rejections()) >= len(WORST), timeout=30)
        assert daemon.process is not None
        assert daemon.process.poll() is None  # still running
        kinds = {e["event"] for e in rejections()}
        assert kinds <= {"job_rejected", "command_rejected"}
        by_order = {e["order_id"]: e["reason"] for e in rejections() if e["order_id"]}
        assert "tare: must be above zero" in by_order["SO-E"]
        assert "qty" in by_order["SO-Q"]
        assert "more than this scale weighs" in by_order["SO-BIG"]
        # Restart with the retained poison still on the job topic: it must not take it down.
        assert daemon.stop() == 0
        daemon.start()
        online(2)
        wait_until(lambda: len(rejections()) >= len(WORST) + 1, timeout=30)
        send(
            "job",
            json.dumps(
                {"order_id": "SO-OK", "lines": [{"sku": "SKU-1023", "qty": 1}], "carton": "BOX-S"}
            ).encode(),
        )
        wait_until(lambda: b"SO-OK" in daemon.log.read_bytes(), timeout=15)
        scale.set_weight("0.185")  # 150 g + 35 g carton
        wait_until(
            lambda: (
                daemon.query("SELECT verdict FROM verdicts WHERE order_id='SO-OK'") == [("PASS",)]
            ),
            timeout=20,
        )
        assert daemon.process is not None
        assert daemon.process.poll() is None
    finally:
        send("job", b"", retain=True)  # clear the retained poison
        daemon.stop()
        events.close()


def test_a_rejection_names_a_huge_order_id_only_as_far_as_a_valid_one_goes() -> None:
    huge = "SO-" + "9" * 100_000
    with pytest.raises(JobError) as rejected:
        parse_job(json.dumps({"order_id": huge, "lines": []}))
    assert rejected.value.order_id == huge[:128]
