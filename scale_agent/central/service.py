"""The central monitor as one process: ingest, retention and the web server.

Started by `scale-agent central run -c central.toml` (systemd: `scale-agent-central.service`).
The schema is migrated on start. With `share_group`, the stations' alert, verdict, event and
catalog-audit streams are a shared subscription (each message to one instance of the group),
while status and health (retained) are read by every instance; the database drops the copies.
"""

from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import uvicorn

from scale_agent.central.auth import Sessions
from scale_agent.central.evidence_intake import EVIDENCE
from scale_agent.central.ingest import KINDS, Ingest
from scale_agent.central.store import CHAIN_HEAD, Store
from scale_agent.central.web import Feed, make_app
from scale_agent.domain.claims import RemedyRule, RemedySettings
from scale_agent.io.evidence_messages import EvidenceAck
from scale_agent.io.messages import TOPIC_ROOT
from scale_agent.io.mqtt.durable import DurableSubscription

if TYPE_CHECKING:
    from scale_agent.central.settings import CentralConfig
    from scale_agent.central.store import Incoming

# Retained by the stations: with a shared group, every instance still reads them.
RETAINED = ("status", "health", CHAIN_HEAD)
PRUNE_EVERY_S = 3600.0
REPORT_EVERY_S = 10.0  # each instance writes its own row this often (`instances`)

log = logging.getLogger("scale_agent.central")


class CentralService:
    """Everything one central monitor instance runs."""

    def __init__(self, config: CentralConfig) -> None:
        self.config = config
        central = config.central
        self.store = Store(config.database)
        self.store.photos = config.evidence_dir
        self.store.upgrade()
        self.feed = Feed()
        root = f"{TOPIC_ROOT}/{central.site or '+'}/+/+"
        kinds = list(KINDS)
        streamed = [kind for kind in kinds if kind not in RETAINED or not central.share_group]
        retained = [kind for kind in RETAINED if central.share_group]
        self.subscription = DurableSubscription(
            config.mqtt,
            [f"{root}/{kind}" for kind in streamed],
            self._deliver,
            client_id=config.mqtt.client_id or f"central-{socket.gethostname()}",  # = self.name
            session_expiry_s=central.session_expiry_s,
            share_group=central.share_group,
            retained_filters=[f"{root}/{kind}" for kind in retained],
        )
        self.ingest = Ingest(self.store, self.subscription.ack, on_stored=self._stored)
        self.app = make_app(
            self.store,
            Sessions(config.secret()),
            config.zone,
            send=self.subscription.publish,
            feed=self.feed,
            shifts=config.shift_starts,
            language=config.central.language,
            ingest=self.ingest.state,
            remedy=RemedySettings(RemedyRule(central.remedy), currency=central.currency),
            approval_above=central.approval_above,
        )
        self._stop = threading.Event()
        self._server: uvicorn.Server | None = None
        self.name = config.mqtt.client_id or f"central-{socket.gethostname()}"
        self._started_at = datetime.now(UTC)

    def _deliver(self, delivery: tuple[int, str, bytes, bool]) -> None:
        self.ingest.deliver(delivery)

    def _stored(self, rows: list[Incoming]) -> None:
        if any(row.kind == "alert" for row in rows):
            self.feed.notify()
        chains = {
            (row.site, row.line, row.station, str(row.payload["chain"]))
            for row in rows
            if row.kind == EVIDENCE
        }
        if chains:
            self._confirm(chains)

    def _confirm(self, chains: set[tuple[str, str, str, str]]) -> None:
        """Tell each station how far the central holds its chain (it prunes nothing beyond)."""
        try:
            states = self.store.verify_chains(chains)
        except Exception as exc:  # noqa: BLE001 - the records are stored; the next batch walks on
            log.warning("evidence walk failed: %s", exc)
            return
        for state in states:
            ack = EvidenceAck(
                chain=state.chain,
                upto=state.verified_upto,
                sent_at=datetime.now(UTC),
                problem=state.problem,
            )
            topic = f"{TOPIC_ROOT}/{state.site}/{state.line}/{state.station}/evidence_ack"
            self.subscription.publish(topic, ack.model_dump_json().encode(), retain=True)

    def _prune(self) -> None:
        while not self._stop.wait(PRUNE_EVERY_S):
            try:
                now = datetime.now(UTC)
                gone = self.store.prune(self.config.central.keep_days, now)
                self.store.prune_evidence(self.config.central.evidence_keep_days, now)
            except Exception as exc:  # noqa: BLE001 - retention must not end the service
                log.warning("prune failed: %s", exc)
            else:
                log.info(
                    "pruned %d messages older than %d days", gone, self.config.central.keep_days
                )

    def report_instance(self) -> None:
        """Write this instance's row: alive now, what it stored, whether it is stalled."""
        state = self.ingest.state()
        self.store.report_instance(
            {
                "name": self.name,
                "share_group": self.config.central.share_group,
                "started_at": self._started_at,
                "seen_at": datetime.now(UTC),
                "every_s": REPORT_EVERY_S,
                "stored": state.stored,
                "refused": state.refused,
                "stalled_since": state.stalled_since,
                "problem": state.problem,
            }
        )

    def _report(self) -> None:
        while True:
            try:
                self.report_instance()
            except Exception as exc:  # noqa: BLE001 - a database away: the ingest says so
                log.warning("instance report failed: %s", exc)
            if self._stop.wait(REPORT_EVERY_S):
                return

    def start_ingest(self) -> None:
        """Start storing (the web server is separate: `serve`)."""
        self.ingest.start()
        self.subscription.start()
        threading.Thread(target=self._prune, name="central-prune", daemon=True).start()
        threading.Thread(target=self._report, name="central-report", daemon=True).start()

    def serve(self, sock: socket.socket | None = None) -> None:
        """Serve the dashboard until `stop` (blocks)."""
        host, _, port = self.config.central.listen.rpartition(":")
        config = uvicorn.Config(
            self.app,
            host=host.strip("[]"),
            port=int(port),
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        # `stop` sets the flag before it looks for the server: asked to stop before the server
        # existed, it ends at once instead of serving on.
        self._server.should_exit = self._stop.is_set()
        self._server.run(sockets=[sock] if sock is not None else None)

    def stop_serving(self) -> None:
        """Make `serve` return (safe from a signal handler: it only sets uvicorn's flag)."""
        if self._server is not None:
            self._server.should_exit = True

    def stop(self) -> None:
        """Stop serving and ingesting (what is queued is stored first)."""
        self._stop.set()
        self.stop_serving()
        self.subscription.stop()
        self.ingest.stop()
        self.store.close()
