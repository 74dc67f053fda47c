"""A station whose orders come from scans: HTTP look-up, missing orders, item by item."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from scale_agent.plugins import Signal
from scale_agent.testing import wait_until
from tests.fakes.mosquitto import Subscriber
from tests.fakes.recording_light import RecordingLight
from tests.station_files import write_station
from tests.station_harness import running_station

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.fakes.mosquitto import Mosquitto
    from tests.fakes.mt_sics_scale import FakeMtSicsScale

ORDERS = {
    "SO-77": {
        "order_id": "SO-77",
        "lines": [{"sku": "SKU-1023", "qty": 1}, {"sku": "SKU-2040", "qty": 2}],
        "carton": "BOX-S",
    }
}


class OrderService(BaseHTTPRequestHandler):
    orders: ClassVar[dict[str, Any]] = ORDERS

    def do_GET(self) -> None:
        order = self.orders.get(self.path.rsplit("/", 1)[-1])
        body = json.dumps(order).encode()
        self.send_response(200 if order else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if order:
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def wms() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), OrderService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/orders/{{order_id}}"
    server.shutdown()
    server.server_close()


def scanner_station(tmp_path: Path, scale: FakeMtSicsScale, mqtt: str | None, url: str) -> Path:
    # The prompt driver on a FIFO is the scanner; tests scan through runtime.submit_scan.
    extra = f'[orders]\nsource = "http"\nurl = "{url}"\ntimeout_s = 2\n'
    extra += f'[scanner]\ndriver = "prompt"\npath = "{tmp_path / "scans"}"\n'
    import os  # noqa: PLC0415

    os.mkfifo(tmp_path / "scans")
    return write_station(tmp_path, scale.path, mqtt, site="scan", extra=extra)


def test_a_scanned_order_is_looked_up_weighed_and_its_alert_sent(
    tmp_path: Path, scale: FakeMtSicsScale, broker: Mosquitto, wms: str
) -> None:
    config = scanner_station(tmp_path, scale, broker.url, wms)
    light = RecordingLight()
    subscriber = Subscriber(broker.port, "scale-agent/v1/scan/#")
    try:
        with running_station(config, light) as runtime:
            wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
            runtime.submit_scan("SO-77")
            wait_until(lambda: light.signals()[-1:] == [Signal.READY])
            assert "SO-77" in light.shown[-1].text
            scale.set_weight("0.877")  # 1025 g expected: the phone case is missing
            wait_until(lambda: light.signals()[-1:] == [Signal.FAIL])
            alerts = subscriber.wait_for(lambda m: any(t.endswith("/alert") for t, _, _ in m))
            scale.set_weight("0.000")
        [alert] = [json.loads(p) for t, p, _ in alerts if t.endswith("/alert")]
        assert (alert["order_id"], alert["verdict"]) == ("SO-77", "MISSING_ITEM")
    finally:
        subscriber.close()


def test_an_order_the_wms_does_not_know_is_a_fault_never_a_pass(
    tmp_path: Path, scale: FakeMtSicsScale, wms: str
) -> None:
    config = scanner_station(tmp_path, scale, None, wms)
    light = RecordingLight()
    with running_station(config, light) as runtime:
        wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
        runtime.submit_scan("SO-404")
        wait_until(lambda: light.signals()[-1:] == [Signal.FAULT])
        assert "SO-404 not found" in light.shown[-1].text
        scale.set_weight("1.025")  # a parcel weighed with no order is never a PASS
        wait_until(lambda: runtime.logic.last_verdict is not None)
        assert runtime.logic.last_verdict is not None
        assert runtime.logic.last_verdict.kind.value == "NO_JOB"
    assert Signal.PASS not in light.signals()
    assert all(not indication.is_seal_enabled for indication in light.shown)


def test_an_unreachable_order_service_is_a_fault_with_the_reason(
    tmp_path: Path, scale: FakeMtSicsScale
) -> None:
    from tests.fakes.mosquitto import free_port  # noqa: PLC0415

    url = f"http://127.0.0.1:{free_port()}/orders/{{order_id}}"
    config = scanner_station(tmp_path, scale, None, url)
    light = RecordingLight()
    with running_station(config, light) as runtime:
        wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
        runtime.submit_scan("SO-77")
        wait_until(lambda: light.signals()[-1:] == [Signal.FAULT])
        assert "unreachable" in light.shown[-1].text


def test_item_by_item_catches_a_wrong_item_and_a_double_scan(
    tmp_path: Path, scale: FakeMtSicsScale, wms: str
) -> None:
    config = scanner_station(tmp_path, scale, None, wms)
    config.write_text(
        config.read_text().replace('data_dir = "data"', 'data_dir = "data"\nitem_by_item = true')
    )
    light = RecordingLight()
    with running_station(config, light) as runtime:
        wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
        runtime.submit_scan("SO-77")  # 1 x SKU-1023 (150 g), 2 x SKU-2040 (420 g), BOX-S
        wait_until(lambda: light.signals()[-1:] == [Signal.READY])
        scale.set_weight("0.035")  # the empty carton
        wait_until(
            lambda: (
                runtime.desk is not None
                and runtime.desk.tracker is not None
                and runtime.desk.tracker.baseline_g is not None
            )
        )
        runtime.submit_scan("SKU-1023")
        scale.set_weight("0.131")  # a 96 g mouse went in, not the 150 g case
        wait_until(lambda: light.signals()[-1:] == [Signal.ITEM_MISMATCH])
        assert "wrong item" in light.shown[-1].text
        scale.set_weight("0.035")  # taken out again
        runtime.submit_scan("SKU-1023")
        scale.set_weight("0.185")  # the case: accepted
        wait_until(lambda: "1 of 3 packed" in light.shown[-1].text)
        runtime.submit_scan("SKU-2040")
        scale.set_weight("0.605")
        wait_until(lambda: "2 of 3 packed" in light.shown[-1].text)
        runtime.submit_scan("SKU-2040")  # scanned once more, but nothing placed ...
        runtime.submit_scan("SKU-2040")  # ... and again: the double scan shows
        wait_until(lambda: light.signals()[-1:] == [Signal.ITEM_MISMATCH])
        assert "scanned but not placed" in light.shown[-1].text
        runtime.submit_scan("SKU-2040")
        scale.set_weight("1.025")  # the last book: complete, the final check runs
        wait_until(lambda: light.signals()[-1:] == [Signal.PASS])
    assert light.signals().count(Signal.ITEM_MISMATCH) == 2
