"""What a running station costs: CPU and memory, beside a 20-line pyserial + paho station.

A real `scale-agent run` process (a GS/NT indicator streaming `ST,GS,+0000.00kg`, ledger on
disk, packer's screen, MQTT to a Mosquitto of our own) reads frames written by this process:

1. 50 frames/s over a pseudo-terminal, beside the naive station below reading the same
   stream: CPU (% of one core) and resident memory. Targets: <= 0.6 % of a core, <= 40 MB.
2. 2,000 frames/s (20 frames every 10 ms) over a pseudo-terminal and over `socket://` (a
   serial-to-Ethernet converter in TCP server mode): target socket <= 1.2x pty.

CPU is the process's user + system time from /proc over the window, after a warm-up.
Run: .venv/bin/python -m bench.station_cost [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path
from typing import TYPE_CHECKING

from bench._broker import BenchBroker
from tests.station_files import write_station

if TYPE_CHECKING:
    from collections.abc import Callable

FRAME = b"ST,GS,+0000.00kg\r\n"
TICK = os.sysconf("SC_CLK_TCK")
WARM_UP_S = 4.0

# The simplest station a user could write instead: read lines, match the weight, publish a
# stable weight when it changes. No settling, no verdict, no ledger, no screen.
NAIVE = """
import json, re, sys
import paho.mqtt.client as mqtt
import serial
port, host, mqtt_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
client.connect(host, mqtt_port)
client.loop_start()
scale = serial.serial_for_url(port, 9600, timeout=1)
weight = re.compile(rb"^(ST|US),(GS|NT),([-+0-9. ]+)([a-z]+)")
last, buffer = None, b""
while True:
    buffer += scale.read(scale.in_waiting or 1)
    *lines, buffer = buffer.split(b"\\n")
    for line in lines:
        match = weight.match(line)
        if match and match[1] == b"ST" and match[3] != last:
            last = match[3]
            body = {"weight": float(match[3]), "unit": match[4].decode()}
            client.publish("bench/naive/weight", json.dumps(body), qos=1)
"""


class Feeder:
    """Writes `per_tick` frames every `tick_s` into a pty or to a TCP client, in a thread."""

    def __init__(self, per_tick: int, tick_s: float, transport: str) -> None:
        self.per_tick, self.tick_s = per_tick, tick_s
        self._stop = threading.Event()
        self._server: socket.socket | None = None
        self._write: Callable[[bytes], object] = len  # replaced once there is a reader
        if transport == "pty":
            self._controller, device = os.openpty()
            tty.setraw(device)
            self.port = os.ttyname(device)
            self._device = device
            controller = self._controller
            self._write = lambda data: os.write(controller, data)
        else:
            self._server = socket.create_server(("127.0.0.1", 0))
            self.port = f"socket://127.0.0.1:{self._server.getsockname()[1]}"
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if self._server is not None:
            connection, _ = self._server.accept()
            self._write = connection.sendall
        batch = FRAME * self.per_tick
        due = time.monotonic()
        while not self._stop.is_set():
            due += self.tick_s
            try:
                self._write(batch)
            except OSError:
                time.sleep(0.01)  # the pty has no reader yet: its buffer is full
            time.sleep(max(0.0, due - time.monotonic()))

    def stop(self) -> None:
        """Stop writing."""
        self._stop.set()
        self._thread.join(2)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def memory_mb(pid: int) -> str:
    """Resident memory of a process, and the part of it that is its own, MB.

    RSS counts the shared libraries' pages (libpython, OpenSSL, SQLite), which every station
    on a PC shares; the private part is what one more station adds.
    """
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, value = line.partition(":")
        fields[name] = int(value.split()[0]) / 1024
    private = fields["Private_Clean"] + fields["Private_Dirty"]
    return f"{fields['Rss']:.0f} MB RSS ({private:.0f} MB its own)"


def measure(command: list[str], feeder: Feeder, seconds: float, cwd: Path) -> tuple[float, str]:
    """(% of one core, memory at the end) of `command` over `seconds`, after a warm-up."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(WARM_UP_S)
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} ended: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        cpu, started = cpu_seconds(process.pid), time.monotonic()
        time.sleep(seconds)
        spent = cpu_seconds(process.pid) - cpu
        elapsed = time.monotonic() - started
        return 100 * spent / elapsed, memory_mb(process.pid)
    finally:
        process.terminate()
        process.wait(10)
        feeder.stop()


def station(
    broker: BenchBroker, per_tick: int, tick_s: float, transport: str, seconds: float
) -> tuple[float, str]:
    """The real station over `transport`."""
    folder = Path(tempfile.mkdtemp())
    feeder = Feeder(per_tick, tick_s, transport)
    config = write_station(folder, feeder.port, broker.url)
    config.write_text(config.read_text().replace('driver = "mt-sics"', 'driver = "gs-nt"'))
    exe = Path(sys.executable).with_name("scale-agent")
    return measure([str(exe), "run", "-c", str(config)], feeder, seconds, folder)


def naive(broker: BenchBroker, per_tick: int, tick_s: float, seconds: float) -> tuple[float, str]:
    """The 20-line station over a pty."""
    folder = Path(tempfile.mkdtemp())
    script = folder / "naive_station.py"
    script.write_text(NAIVE)
    feeder = Feeder(per_tick, tick_s, "pty")
    command = [sys.executable, str(script), feeder.port, "127.0.0.1", str(broker.port)]
    return measure(command, feeder, seconds, folder)


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--seconds", type=float, default=20.0)
    seconds = options.parse_args().seconds
    broker = BenchBroker()
    try:
        ours, ours_rss = station(broker, 1, 0.02, "pty", seconds)
        simple, simple_rss = naive(broker, 1, 0.02, seconds)
        print(
            f"50 frames/s over a pty: station {ours:.2f}% of a core, {ours_rss}; "
            f"20-line pyserial+paho station {simple:.2f}%, {simple_rss} "
            f"(ratio {ours / simple:.2f}x; targets <= 0.6 %, <= 40 MB)"
        )
        over_pty, _ = station(broker, 20, 0.01, "pty", seconds)
        over_socket, _ = station(broker, 20, 0.01, "socket", seconds)
        print(
            f"2,000 frames/s: station over socket:// {over_socket:.1f}% of a core, over a pty "
            f"{over_pty:.1f}% (ratio {over_socket / over_pty:.2f}x; target <= 1.2x)"
        )
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
