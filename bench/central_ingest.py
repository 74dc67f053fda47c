"""The central monitor's ingest under 500 stations: throughput, latency, nothing lost or doubled.

One Mosquitto (deep queues), one PostgreSQL database made for the run, two `scale-agent central
run` processes in one shared subscription group (`$share/monitors/...`). Publishers in 4
processes play 500 stations: a steady phase (each station a verdict or alert every few seconds,
health every 30 s) and then a burst (every station draining a backlog of 100 alerts at once, as
after a site's network came back). Midway through the burst instance B is killed with -9 and
started again 2 s later with the same client id (its persistent session holds what it had not
acknowledged).

Then both instances are stopped, another burst is queued for their sessions, and both start
again: the rate at which two instances drain a backlog, without the generator's load.
Printed: messages/s stored per instance, live and draining (target >= 5,000), end-to-end
p50/p99 from publish to row (sent_at to received_at, live phases), and the check: rows =
unique messages published (0 lost) and no msg_id twice (0 duplicated rows).
Run: .venv/bin/python -m bench.central_ingest [--stations 500] [--burst 100]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench._broker import BenchBroker

POSTGRES = os.environ.get("SCALE_AGENT_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SITE = "load"
ALERT = (
    '{{"msg_id":"{msg_id}","sent_at":"{sent_at}","site":"load","line":"{line}",'
    '"station":"{station}","schema_id":"scale-agent/verdict/1","parcel_id":"{msg_id}",'
    '"judged_at":"{sent_at}","order_id":"{order}","verdict":"MISSING_ITEM",'
    '"reason":"light by 150 g: 1 x SKU-1023 (150 g) missing","expected":{{"value":1025.0,'
    '"unit":"g"}},"lower_limit":{{"value":1005.0,"unit":"g"}},"upper_limit":{{"value":1055.0,'
    '"unit":"g"}},"measured":{{"value":875.0,"unit":"g"}},"difference":{{"value":-150.0,'
    '"unit":"g"}},"sigma":{{"value":2.5,"unit":"g"}},"policy":"site@1","explanation":'
    '[{{"units":[{{"sku":"SKU-1023","qty":1}}],"direction":"missing","fit_sigma":0.3}}],'
    '"is_detectable":true,"is_rejudged":false}}'
)
HEALTH = (
    '{{"msg_id":"{msg_id}","sent_at":"{sent_at}","site":"load","line":"{line}",'
    '"station":"{station}","schema_id":"scale-agent/health/1","station_state":"idle",'
    '"order_id":null,"scale":{{"state":"ok","fault_reason":null,"device":"/dev/ttyUSB0",'
    '"model":"bench","serial":"1","reconnects":0,"parse_errors":0,'
    '"seconds_since_last_reading":0.1,"seconds_since_last_stable":2.0,"empty_reading":null}},'
    '"outbox_backlog":0,"outbox_dropped":0,"last_verdict":"PASS","interval_s":30.0}}'
)


def now_text() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def publish(port: int, stations: list[tuple[str, str]], phase: str, burst: int, out: str) -> None:
    """One publisher process: its stations' messages; writes the msg_ids it got PUBACKs for."""
    import paho.mqtt.client as mqtt  # noqa: PLC0415 - in the child process
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion  # noqa: PLC0415

    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.max_inflight_messages_set(200)
    client.connect("127.0.0.1", port)
    client.loop_start()
    sent: list[tuple[str, object]] = []
    root = f"scale-agent/v1/{SITE}"
    if phase == "steady":  # 10 s: each station a health message and an alert every ~5 s
        for second in range(10):
            started = time.monotonic()
            for number, (line, station) in enumerate(stations):
                if (number + second) % 5 == 0:
                    msg_id = str(uuid.uuid4())
                    body = ALERT.format(
                        msg_id=msg_id,
                        sent_at=now_text(),
                        line=line,
                        station=station,
                        order=f"SO-{msg_id[:8]}",
                    )
                    sent.append(
                        (msg_id, client.publish(f"{root}/{line}/{station}/alert", body, qos=1))
                    )
                if second == 0:
                    msg_id = str(uuid.uuid4())
                    body = HEALTH.format(
                        msg_id=msg_id, sent_at=now_text(), line=line, station=station
                    )
                    sent.append(
                        (
                            msg_id,
                            client.publish(
                                f"{root}/{line}/{station}/health", body, qos=1, retain=True
                            ),
                        )
                    )
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
    else:  # the burst: every station's backlog at once
        for _ in range(burst):
            for line, station in stations:
                msg_id = str(uuid.uuid4())
                body = ALERT.format(
                    msg_id=msg_id,
                    sent_at=now_text(),
                    line=line,
                    station=station,
                    order=f"SO-{msg_id[:8]}",
                )
                sent.append((msg_id, client.publish(f"{root}/{line}/{station}/alert", body, qos=1)))
    for _, info in sent:
        info.wait_for_publish(timeout=120)  # type: ignore[attr-defined]
    client.disconnect()
    client.loop_stop()
    Path(out).write_text("\n".join(msg_id for msg_id, _ in sent))


def publishers(
    port: int,
    groups: list[list[tuple[str, str]]],
    *,
    phase: str,
    burst: int,
    folder: Path,
    outs: list[str],
) -> list[multiprocessing.Process]:
    """One started publisher process per group of stations; each file it writes joins `outs`."""
    started = []
    for group in groups:
        out = str(folder / f"sent-{len(outs)}.txt")
        outs.append(out)
        process = multiprocessing.Process(target=publish, args=(port, group, phase, burst, out))
        process.start()
        started.append(process)
    return started


def instance(
    folder: Path, name: str, database: str, broker_port: int
) -> tuple[Path, subprocess.Popen[bytes]]:
    config = folder / f"central-{name}.toml"
    config.write_text(
        f'[central]\ndatabase = "{database}"\nlisten = "127.0.0.1:0"\nshare_group = "monitors"\n'
        f'site = "{SITE}"\nsecret_file = "secret-{name}"\n'
        f'[mqtt]\nurl = "mqtt://127.0.0.1:{broker_port}"\nclient_id = "bench-central-{name}"\n'
    )
    return config, start(config, folder / f"{name}.log")


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("scale-agent")
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(exe), "central", "run", "-c", str(config)], stdout=out, stderr=out
        )


def rows(database: str) -> tuple[int, int, list[float]]:
    """(rows, distinct msg_ids, publish-to-row latencies in ms of the alerts)."""
    with psycopg.connect(database) as connection:
        total, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT msg_id) FROM messages"
        ).fetchone()  # type: ignore[misc]
        lags = connection.execute(
            "SELECT EXTRACT(EPOCH FROM (received_at - sent_at)) * 1000 FROM messages"
            " WHERE kind = 'alert'"
        ).fetchall()
    return int(total), int(distinct), [float(lag) for (lag,) in lags]


def main() -> None:  # noqa: C901, PLR0915 - one bench, read top to bottom
    options = argparse.ArgumentParser()
    options.add_argument("--stations", type=int, default=500)
    options.add_argument("--burst", type=int, default=100)
    args = options.parse_args()
    folder = Path(tempfile.mkdtemp())
    name = f"bench_central_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database = f"{POSTGRES.rsplit('/', 1)[0]}/{name}"
    # The central tier's broker lets 1,000 messages be in flight to each monitor (Mosquitto's
    # default is 20): the monitor acknowledges once a batch is stored, so the window is its pace.
    broker = BenchBroker(max_inflight=1000)
    stations = [(f"line-{n // 50}", f"st-{n:03d}") for n in range(args.stations)]
    groups = [stations[i::4] for i in range(4)]
    try:
        config_a, a = instance(folder, "a", database, broker.port)
        config_b, b = instance(folder, "b", database, broker.port)
        time.sleep(4)  # both subscribed (and the schema migrated)
        outs: list[str] = []
        for process in publishers(
            broker.port, groups, phase="steady", burst=0, folder=folder, outs=outs
        ):
            process.join()
        before, _, _ = rows(database)
        burst_started = time.monotonic()
        burst = publishers(
            broker.port, groups, phase="burst", burst=args.burst, folder=folder, outs=outs
        )
        expected_total = before + args.stations * args.burst
        # Kill B with -9 once a third of the burst is stored, start it again 2 s later.
        while rows(database)[0] < before + args.stations * args.burst // 3:
            time.sleep(0.05)
        b.send_signal(signal.SIGKILL)
        b.wait()
        killed_at = rows(database)[0]
        time.sleep(2)
        b = start(config_b, folder / "b.log")
        for process in burst:
            process.join()
        published_s = time.monotonic() - burst_started
        deadline = time.monotonic() + 120
        while rows(database)[0] < expected_total and time.monotonic() < deadline:
            time.sleep(0.1)
        burst_s = time.monotonic() - burst_started
        time.sleep(1)
        live_total, _, lags = rows(database)
        # The backlog: both instances stopped (their sessions kept), a burst queued for them,
        # then both started: how fast two instances drain it, without the publishers' load.
        for monitor in (a, b):
            monitor.send_signal(signal.SIGTERM)
            monitor.wait(30)
        for process in publishers(
            broker.port, groups, phase="burst", burst=args.burst, folder=folder, outs=outs
        ):
            process.join()
        drain_started = time.monotonic()
        a, b = start(config_a, folder / "a.log"), start(config_b, folder / "b.log")
        deadline = time.monotonic() + 300
        first_row_at = None
        while (
            count := rows(database)[0]
        ) < live_total + args.stations * args.burst and time.monotonic() < deadline:
            if first_row_at is None and count > live_total:
                first_row_at = time.monotonic()
            time.sleep(0.05)
        drain_s = time.monotonic() - drain_started
        storing_s = time.monotonic() - (first_row_at or drain_started)
        published = set()
        for out in outs:
            published |= set(Path(out).read_text().split())
        total, distinct, _ = rows(database)
        for monitor in (a, b):
            monitor.send_signal(signal.SIGTERM)
            monitor.wait(30)
        stats = {
            log: (folder / f"{log}.log").read_text().strip().splitlines()[-1:] for log in ("a", "b")
        }
        lags.sort()
        stored_in_burst = live_total - before
        print(
            f"{args.stations} stations, {len(published):,} messages published (steady 10 s, then a "
            f"burst of {args.stations * args.burst:,}); instance B killed with -9 at "
            f"{killed_at - before:,} burst rows and restarted 2 s later"
        )
        print(
            f"burst: {stored_in_burst:,} rows in {burst_s:.1f} s = "
            f"{stored_in_burst / burst_s:,.0f} "
            f"messages/s for both instances, {stored_in_burst / burst_s / 2:,.0f} per instance "
            "(target >= 5,000 per instance)"
        )
        print(
            f"  (on this machine the 4 publisher processes themselves needed {published_s:.1f} s "
            "to have the burst acknowledged by the broker: generator, broker, PostgreSQL and "
            "both instances share its cores)"
        )
        print(
            f"backlog of {args.stations * args.burst:,} queued while both were stopped, drained "
            f"after they started (start-up included) in {drain_s:.1f} s = "
            f"{args.stations * args.burst / drain_s:,.0f} messages/s, "
            f"{args.stations * args.burst / drain_s / 2:,.0f} per instance; from the first row "
            f"stored: {storing_s:.1f} s = {args.stations * args.burst / storing_s / 2:,.0f} per "
            "instance (target >= 5,000)"
        )
        print(
            f"publish -> row (alerts): p50 {statistics.median(lags):.0f} ms, "
            f"p99 {lags[int(len(lags) * 0.99) - 1]:.0f} ms, max {lags[-1]:.0f} ms"
        )
        print(
            f"rows {total:,}, distinct msg_ids {distinct:,}, published {len(published):,}: "
            f"{len(published) - distinct} lost, {total - distinct} duplicated rows"
        )
        print(f"instance logs (the last run of each): A {stats['a']}, B {stats['b']}")
    finally:
        broker.stop()
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
