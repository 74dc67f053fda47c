"""TLS, client certificates, passwords and the documented ACL, against a real Mosquitto."""

from __future__ import annotations

import json
import ssl
import subprocess
from typing import TYPE_CHECKING

import paho.mqtt.publish as mqtt_publish
import pytest

from scale_agent.plugins import Signal
from scale_agent.testing import wait_until
from tests.conftest import REPO
from tests.fakes.mosquitto import Mosquitto, Subscriber, free_port
from tests.fakes.pki import Pki, make_pki
from tests.fakes.recording_light import RecordingLight
from tests.station_files import write_station
from tests.station_harness import running_station

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.fakes.mt_sics_scale import FakeMtSicsScale

STATION_USER = "berlin-1.line-1.bench-1"
USERS = {STATION_USER: "s3cret", "monitor": "m0nitor", "wms": "wms-pass"}
ORDER = {"order_id": "SO-T", "lines": [{"sku": "SKU-1023", "qty": 1}], "carton": "BOX-S"}


class SecureBroker:
    """Mosquitto with a TLS+password listener and a mutual-TLS listener, and the docs' ACL."""

    def __init__(self, folder: Path) -> None:
        self.pki: Pki = make_pki(folder)
        passwd = folder / "passwd"
        for number, (user, password) in enumerate(USERS.items()):
            create = ["-c"] if number == 0 else []
            subprocess.run(
                ["mosquitto_passwd", *create, "-b", str(passwd), user, password],
                check=True,
                capture_output=True,
            )
        acl = REPO / "docs" / "mosquitto" / "acl.example"
        self.mutual_port = free_port()
        tls = [
            f"cafile {self.pki.ca}",
            f"certfile {self.pki.server_cert}",
            f"keyfile {self.pki.server_key}",
        ]
        self.broker = Mosquitto(
            folder,
            extra=[
                "per_listener_settings false",
                "allow_anonymous false",
                f"password_file {passwd}",
                f"acl_file {acl}",
                *tls,
                f"listener {self.mutual_port} 127.0.0.1",
                *tls,
                "require_certificate true",
            ],
        )
        self.broker.start()

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.pki.ca))


@pytest.fixture
def secure(tmp_path: Path) -> Iterator[SecureBroker]:
    broker = SecureBroker(tmp_path)
    yield broker
    broker.broker.stop()


def station_file(
    tmp_path: Path, scale: FakeMtSicsScale, port: int, *, user: str, password: str, extra: str = ""
) -> Path:
    (tmp_path / "mqtt-password").write_text(password + "\n")
    return write_station(
        tmp_path,
        scale.path,
        f"mqtts://localhost:{port}",
        site="berlin-1",
        extra=f'username = "{user}"\npassword_file = "mqtt-password"\n'
        f'ca_file = "{tmp_path / "ca.crt"}"\n{extra}',
    )


def send_job(secure: SecureBroker) -> None:
    mqtt_publish.single(
        "scale-agent/v1/berlin-1/line-1/bench-1/job",
        json.dumps(ORDER),
        qos=1,
        hostname="localhost",
        port=secure.broker.port,
        auth={"username": "wms", "password": USERS["wms"]},
        tls={"ca_certs": str(secure.pki.ca)},
    )


def test_alerts_travel_over_tls_with_a_password_within_the_acl(
    tmp_path: Path, scale: FakeMtSicsScale, secure: SecureBroker
) -> None:
    config = station_file(
        tmp_path, scale, secure.broker.port, user=STATION_USER, password=USERS[STATION_USER]
    )
    light = RecordingLight()
    monitor = Subscriber(
        secure.broker.port,
        "scale-agent/v1/#",
        context=secure.context(),
        username="monitor",
        password=USERS["monitor"],
    )
    try:
        with running_station(config, light) as runtime:
            wait_until(lambda: runtime.publisher is not None and runtime.publisher.is_connected)
            send_job(secure)  # the WMS may write jobs; the station may read its own
            wait_until(lambda: "Order SO-T" in light.shown[-1].text)
            scale.set_weight("0.035")  # an empty box
            wait_until(lambda: light.signals()[-1:] == [Signal.FAIL])
            monitor.wait_for(lambda m: any(t.endswith("/alert") for t, _, _ in m))
            wait_until(lambda: runtime.publisher is not None and runtime.publisher.backlog == 0)
    finally:
        monitor.close()
    [alert] = [json.loads(p) for t, p, _ in monitor.messages if t.endswith("/alert")]
    assert alert["verdict"] == "MISSING_ITEM"


def test_a_client_certificate_opens_the_mutual_tls_listener(
    tmp_path: Path, scale: FakeMtSicsScale, secure: SecureBroker
) -> None:
    config = station_file(
        tmp_path,
        scale,
        secure.mutual_port,
        user=STATION_USER,
        password=USERS[STATION_USER],
        extra=f'cert_file = "{secure.pki.client_cert}"\nkey_file = "{secure.pki.client_key}"\n',
    )
    with running_station(config, RecordingLight()) as runtime:
        wait_until(lambda: runtime.publisher is not None and runtime.publisher.is_connected)


def test_a_wrong_password_keeps_the_station_working_and_the_alerts_kept(
    tmp_path: Path, scale: FakeMtSicsScale, secure: SecureBroker
) -> None:
    config = station_file(tmp_path, scale, secure.broker.port, user=STATION_USER, password="wrong")  # noqa: S106 - a test password
    light = RecordingLight()
    with running_station(config, light) as runtime:
        publisher = runtime.publisher
        assert publisher is not None
        wait_until(lambda: "refused" in publisher.last_error)
        assert "Not authorized" in publisher.last_error or "Bad user" in publisher.last_error
        runtime.submit_job_data(json.dumps(ORDER).encode(), "test")
        wait_until(lambda: "Order SO-T" in light.shown[-1].text)
        scale.set_weight("0.035")
        wait_until(lambda: light.signals()[-1:] == [Signal.FAIL])
        wait_until(lambda: publisher.backlog == 1)
        assert not publisher.is_connected


def test_a_publish_the_acl_refuses_stays_in_the_outbox(
    tmp_path: Path, scale: FakeMtSicsScale, secure: SecureBroker
) -> None:
    # Connected as the read-only monitor user: the broker acks alerts with 135 Not authorized.
    config = station_file(
        tmp_path, scale, secure.broker.port, user="monitor", password=USERS["monitor"]
    )
    light = RecordingLight()
    with running_station(config, light) as runtime:
        publisher = runtime.publisher
        assert publisher is not None
        wait_until(lambda: publisher.is_connected)
        runtime.submit_job_data(json.dumps(ORDER).encode(), "test")
        wait_until(lambda: "Order SO-T" in light.shown[-1].text)
        scale.set_weight("0.035")
        wait_until(lambda: light.signals()[-1:] == [Signal.FAIL])
        wait_until(lambda: publisher.refused >= 1)
        assert publisher.backlog == 1  # not deleted: delivered later once the ACL is fixed
        assert publisher.delivered == 0
