"""`scale-agent demo`: a whole station with nothing installed or configured.

A simulated bench scale (MT-SICS over a pseudo-terminal), the console light, the ledger, and
MQTT alerts. A stream of orders from the example catalog is packed, some correctly, some one
item short, some underfilled, some with an extra item or overweight; the demo only decides
what lands on the platter, and the station judges it exactly as it would a real parcel.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import threading
import time
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from scale_agent.domain.jobs import Job, JobLine, References
from scale_agent.domain.verifier import plan
from scale_agent.errors import UsageError
from scale_agent.io.config import validate_config
from scale_agent.io.ledger import Ledger
from scale_agent.plugins import SimulatedBench
from scale_agent.station.assembly import build_runtime
from scale_agent.weights import Weight, format_grams

if TYPE_CHECKING:
    from scale_agent.central.demo_monitor import DemoMonitor
    from scale_agent.domain.catalog import Catalog
    from scale_agent.domain.verifier import Expectation
    from scale_agent.io.config import StationConfig
    from scale_agent.station.recorder import RecordedVerdict
    from scale_agent.station.runtime import StationRuntime

SCENARIOS = (
    "correct",
    "one short",
    "correct",
    "underfilled",
    "correct",
    "overweight",
    "one short",
    "correct",
    "extra item",
    "correct",
    "underfilled",
    "one short",
)
VERDICT_TIMEOUT_S = 20.0
MONITOR_WAIT_S = 5.0  # for the monitor's subscription before the first parcel
PACKERS = ("wang.fang", "li.na", "chen.jie")


SCANNER_FIFO = "scanner.fifo"


def order_json(job: Job) -> bytes:
    """A job as the WMS would push it (the `job`/`orders` JSON)."""
    lines = [{"sku": line.sku, "qty": line.qty} for line in job.lines]
    order = {"order_id": job.order_id, "lines": lines, "carton": job.carton_id}
    references = job.references
    for key in ("tracking_number", "marketplace_order", "packer"):
        if (value := getattr(references, key)) is not None:
            order[key] = value
    return json.dumps(order).encode()


def scan(data_dir: Path, code: str) -> None:
    """The simulated scanner: a code and Enter, into the prompt driver's FIFO."""
    fd = os.open(data_dir / SCANNER_FIFO, os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(fd, f"{code}\n".encode())
    finally:
        os.close(fd)


def demo_config(
    mqtt_url: str | None,
    data_dir: Path,
    *,
    screen: bool = True,
    language: str = "en",
    publish_verdicts: bool = False,
    camera: bool = False,
) -> StationConfig:
    """The embedded demo station, with the options given on the command line."""
    station = resources.files("scale_agent") / "data" / "demo-station.toml"
    data = tomllib.loads(station.read_text(encoding="utf-8"))
    data["station"]["data_dir"] = str(data_dir)
    # The simulated scanner types into a FIFO that the real `prompt` scanner driver reads.
    data["scanner"] = {"driver": "prompt", "path": str(data_dir / SCANNER_FIFO)}
    if mqtt_url is None:
        data["mqtt"] = {"enabled": False}
    else:
        data["mqtt"]["url"] = mqtt_url
        # Beside a monitor, every verdict: its shift summary then counts parcels and pass rates.
        data["mqtt"]["publish_verdicts"] = publish_verdicts
    data["screen"] = {**data.get("screen", {}), "enabled": screen, "language": language}
    if camera:  # a drawn bench: the photos go the real way, to the report and the case desk
        data["camera"] = {"driver": "simulated"}
    return validate_config(data, Path(str(station)))


@dataclass
class Parcel:
    """One packed parcel of the demo and what became of it."""

    number: int
    job: Job
    scenario: str
    true_g: Decimal
    expectation: Expectation
    outcome: RecordedVerdict | None = None
    fixed: RecordedVerdict | None = None  # the verdict after the packer re-packed it


def make_order(catalog: Catalog, rng: random.Random, index: int) -> Job:
    """A plausible order of one to three catalog SKUs, in a carton that fits."""
    chosen = rng.sample(sorted(catalog.skus), rng.randint(1, 3))
    lines = tuple(JobLine(sku, rng.choice((1, 1, 2))) for sku in chosen)
    grams = sum(catalog.skus[line.sku].weight.in_grams * line.qty for line in lines)
    carton = "BOX-S" if grams < 700 else "BOX-M" if grams < 1800 else "BOX-L"  # noqa: PLR2004
    references = References(
        tracking_number=f"SF{1_402_000_000 + 7919 * index}",  # the carrier's waybill
        marketplace_order=f"TB-2026-{31_000 + index}",  # the shop's order number
        packer=PACKERS[index % len(PACKERS)],  # the WMS assigns each pack task to a packer
    )
    return Job(f"SO-{1001 + index}", lines, carton, references=references)


def packed_weight(expectation: Expectation, scenario: str, rng: random.Random) -> Decimal:
    """The true weight of what the packer put in the carton, pieces varying as real ones do."""
    total = Decimal(str(rng.gauss(float(expectation.carton_g), float(expectation.carton_spread_g))))
    units = [line for line in expectation.lines for _ in range(line.qty)]
    for unit in units:
        total += Decimal(str(rng.gauss(float(unit.unit_g), float(unit.spread_g))))
    # Underfilled and overweight parcels miss the limit clearly (past the guard band), but by
    # far less than a whole unit, so no unit explains them.
    margin = max(3 * expectation.guard_g, Decimal(5))
    under = expectation.expected_g - expectation.lower_g
    over = expectation.upper_g - expectation.expected_g
    if scenario == "one short":
        total -= rng.choice(units).unit_g
    elif scenario == "extra item":
        total += rng.choice(units).unit_g
    elif scenario == "underfilled":
        total -= under + margin
    elif scenario == "overweight":
        total += over + margin
    return total.quantize(Decimal("0.1"))


class Demo:
    """Drives the simulated bench through a sequence of parcels."""

    def __init__(
        self, runtime: StationRuntime, bench: SimulatedBench, out: TextIO, seed: int = 7
    ) -> None:
        self.runtime = runtime
        self.bench = bench
        self.out = out
        self.rng = random.Random(seed)  # noqa: S311 - a demo, not cryptography
        self.parcels: list[Parcel] = []
        self._verdict = threading.Event()
        self._latest: RecordedVerdict | None = None
        runtime.listeners.append(self._on_verdict)

    def _on_verdict(self, recorded: RecordedVerdict) -> None:
        self._latest = recorded
        self._verdict.set()

    def pack(self, count: int | None, stop: threading.Event) -> None:
        """Pack `count` parcels (forever when None), unless stopped."""
        config = self.runtime.config
        number = 0
        while (count is None or number < count) and not stop.is_set():
            job = make_order(config.catalog, self.rng, number)
            scenario = SCENARIOS[number % len(SCENARIOS)]
            expectation = plan(job, config.catalog, config.agent.tolerance)
            number += 1
            parcel = Parcel(
                number, job, scenario, packed_weight(expectation, scenario, self.rng), expectation
            )
            self.parcels.append(parcel)
            items = ", ".join(f"{line.qty} x {line.sku}" for line in job.lines)
            is_scanned = number % 2 == 0  # every other order is scanned at the bench
            self.out.write(
                f"\n-- parcel {number}: order {job.order_id} ({items} in {job.carton_id}),"
                f" packed {scenario}, {'scanned' if is_scanned else 'pushed by the WMS'}\n"
            )
            self._verdict.clear()
            if is_scanned:
                self.runtime.submit_order_push(order_json(job))  # the WMS's order list
                scan(config.data_dir, job.order_id)
            else:
                self.runtime.submit_job(job)
            if stop.wait(0.4):
                return
            self.bench.place(Weight.grams(parcel.true_g))
            if self._verdict.wait(VERDICT_TIMEOUT_S):
                parcel.outcome = self._latest
            if stop.wait(0.8):
                return
            if parcel.outcome is not None and parcel.outcome.is_flagged:
                # A flagged parcel holds its order: the packer does what the screen says.
                self._repack(parcel)
                if stop.wait(0.8):
                    return
            self.bench.remove()
            if stop.wait(0.6):
                return

    def _repack(self, parcel: Parcel) -> None:
        """Re-pack a flagged parcel as ordered, on the platter, and wait for its new verdict."""
        self.out.write("   the packer follows the screen and re-packs the parcel\n")
        self._verdict.clear()
        self.bench.place(Weight.grams(packed_weight(parcel.expectation, "correct", self.rng)))
        if self._verdict.wait(VERDICT_TIMEOUT_S):
            parcel.fixed = self._latest

    def summary(self) -> str:
        """The table printed at the end."""
        rows = [("#", "order", "packed", "expected", "measured", "verdict", "then", "why")]
        for parcel in self.parcels:
            verdict = parcel.outcome.verdict if parcel.outcome else None
            rows.append(
                (
                    str(parcel.number),
                    parcel.job.order_id,
                    parcel.scenario,
                    format_grams(parcel.expectation.expected_g),
                    format_grams(verdict.measured_g) if verdict and verdict.measured_g else "-",
                    verdict.kind.value if verdict else "NO VERDICT",
                    f"re-packed: {parcel.fixed.verdict.kind.value}" if parcel.fixed else "",
                    verdict.reason if verdict else "",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        lines = []
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            lines.append("  ".join([*cells, row[-1]]))
        return "\n".join(lines)


def _start_monitor(
    config: StationConfig, mqtt_url: str | None, data_dir: Path, language: str, out: TextIO
) -> DemoMonitor:
    """The central monitor for the demo site, on the demo's broker."""
    if mqtt_url is None:
        raise UsageError("--central needs a broker: leave out --mqtt none")
    try:
        from scale_agent.central import demo_monitor  # noqa: PLC0415 - an optional extra
    except ImportError as exc:
        raise UsageError(
            f"--central needs the monitor's extra ({exc.name} is missing): "
            "pip install 'scale-agent[central]'"
        ) from exc
    monitor = demo_monitor.start(data_dir, mqtt_url, config.agent.station.site, language)
    deadline = time.monotonic() + MONITOR_WAIT_S
    while not monitor.service.subscription.is_subscribed and time.monotonic() < deadline:
        time.sleep(0.05)
    if not monitor.service.subscription.is_subscribed:
        out.write(f"monitor: the broker {mqtt_url} is not answering; the monitor keeps trying\n")
    out.write(
        f"monitor: {monitor.url} (sign in as {demo_monitor.USER}, password {monitor.password})\n"
        f"case desk: {monitor.url}cases"
        " (try SF1402007919: parcel 2, packed one short, then re-packed)\n"
    )
    return monitor


def _keep_monitor_up(monitor: DemoMonitor, stop: threading.Event, out: TextIO) -> None:
    """After the last parcel, the monitor stays for the supervisor to look at, until Ctrl-C."""
    out.write(f"\nall parcels packed; the monitor stays up at {monitor.url}: Ctrl-C to stop\n")
    out.flush()
    try:
        stop.wait()
    except KeyboardInterrupt:
        stop.set()


def run_demo(
    parcels: int | None,
    mqtt_url: str | None,
    data_dir: Path,
    out: TextIO,
    *,
    screen: bool = True,
    language: str = "en",
    central: bool = False,
) -> int:
    """Run the demo (beside a central monitor with `central`); returns the exit code."""
    camera = central and importlib.util.find_spec("PIL") is not None  # the camera extra
    config = demo_config(
        mqtt_url,
        data_dir,
        screen=screen,
        language=language,
        publish_verdicts=central,
        camera=camera,
    )
    monitor = _start_monitor(config, mqtt_url, data_dir, language, out) if central else None
    fifo = data_dir / SCANNER_FIFO
    fifo.parent.mkdir(parents=True, exist_ok=True)
    if not fifo.exists():
        os.mkfifo(fifo)
    runtime = build_runtime(config)
    bench = getattr(runtime.link.driver, "bench", None)
    if not isinstance(bench, SimulatedBench):  # pragma: no cover - the demo config says simulated
        out.write("the demo scale driver offers no simulated bench\n")
        return 1
    demo = Demo(runtime, bench, out)
    station = threading.Thread(target=runtime.run, name="station", daemon=True)
    stop = threading.Event()
    out.write(f"scale-agent demo: station {runtime.topics.root}\nledger: {runtime.ledger_path}\n")
    out.write(
        f"alerts: {'MQTT ' + mqtt_url if mqtt_url else 'MQTT disabled'}"
        f" (topic {runtime.topics.alert})\n"
    )
    started = threading.Event()
    runtime.on_started = started.set
    station.start()
    started.wait(timeout=10)
    if runtime.screen is not None:
        where = runtime.screen.url or f"not available: {runtime.screen.problem}"
        out.write(f"screen: {where}\n")
    out.flush()
    try:
        demo.pack(parcels, stop)
    except KeyboardInterrupt:
        stop.set()
        out.write("\ninterrupted\n")
    if monitor is not None and not stop.is_set():
        _keep_monitor_up(monitor, stop, out)
    publisher = runtime.publisher
    if publisher is not None and publisher.has_connected:
        publisher.wait_drained(3.0)
    broker_error = publisher.last_error if publisher is not None else ""
    runtime.stop()
    station.join(timeout=10)
    if monitor is not None:
        monitor.stop()
    out.write("\n" + demo.summary() + "\n\n")
    _delivery(demo, runtime, broker_error, out)
    return 0


def _delivery(demo: Demo, runtime: StationRuntime, broker_error: str, out: TextIO) -> None:
    """Where the flagged parcels' alerts went: the broker, or the outbox (and why)."""
    flagged = sum(1 for p in demo.parcels if p.outcome and p.outcome.is_flagged)
    ledger = Ledger(runtime.config.data_dir)
    try:
        backlog = ledger.backlog()
    finally:
        ledger.close()
    publisher = runtime.publisher
    if publisher is None:
        out.write(
            f"{flagged} flagged parcel(s) recorded in {runtime.ledger_path} (MQTT disabled)\n"
        )
    elif backlog == 0:
        out.write(
            f"{flagged} alert(s) delivered to {publisher.address} under {runtime.topics.alert}\n"
        )
    else:
        problem = "did not confirm them all" if publisher.has_connected else "was not reachable"
        out.write(
            f"broker {publisher.address} {problem} ({broker_error}).\n"
            f"{backlog} message(s), alerts included, are kept in the outbox of "
            f"{runtime.ledger_path}\nand will be delivered the next time this station reaches "
            "its broker.\n"
        )
