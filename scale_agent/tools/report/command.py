"""`scale-agent records report ORDER [--pdf FILE | --html FILE] [--claim TEXT]`.

Without `--pdf`/`--html` the report's facts (and the claim's answer) are printed, so customer
service can answer a chat before attaching the file. The language is the station's (its
`[screen] language`) unless `--language` says otherwise; times are shown in `--tz` or the
machine's zone, with the zone's name and offset.
"""

from __future__ import annotations

import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scale_agent.domain import claims
from scale_agent.errors import UsageError
from scale_agent.io.translations import Translator
from scale_agent.text import printable
from scale_agent.tools.report import facts as report_facts
from scale_agent.tools.report import text

if TYPE_CHECKING:
    import argparse

    from scale_agent.io.chain_head import SignedHead
    from scale_agent.io.config import AgentConfig
    from scale_agent.io.ledger import Ledger


def report(
    args: argparse.Namespace, ledger: Ledger, data_dir: Path, anchor: SignedHead | None
) -> int:
    """Write or print one order's report; exit 1 when the ledger has no verdict for it."""
    config = _config(args)
    translator = Translator(args.language or (config.screen.language if config else "en"))
    claim = claims.parse_claim(args.claim) if args.claim else None
    found = report_facts.gather(
        ledger,
        data_dir,
        args.order_id,
        _zone(args.tz),
        anchor=anchor,
        anchor_source=f"--anchor {args.anchor}" if anchor else "",
        pinned_key=args.key,
        seq=args.seq,
        claim=claim,
        remedy=_remedy(args, config),
    )
    if found is None:
        which = f" as record {args.seq}" if args.seq else ""
        print(f"no verdict recorded for order {printable(args.order_id)}{which}", file=sys.stderr)
        return 1
    if args.pdf or args.html:
        _check_extra()
    if args.pdf:
        from scale_agent.tools.report import pdf  # noqa: PLC0415 - fpdf2 only when asked

        Path(args.pdf).write_bytes(pdf.render(found, translator))
        print(f"report for order {printable(args.order_id)} written to {args.pdf}")
    elif args.html:
        from scale_agent.tools.report import html  # noqa: PLC0415 - jinja2 only when asked

        Path(args.html).write_text(html.render(found, translator), encoding="utf-8")
        print(f"report for order {printable(args.order_id)} written to {args.html}")
    else:
        for row in [
            *text.cautions(found, translator),
            *text.summary(found, translator),
            *text.claim(found, translator),
            *text.verification(found, translator),
        ]:
            print(printable(f"{row.label}: {row.value}"))
    return 0


def _check_extra() -> None:
    """The PDF and HTML need the `report` extra: say how to get it, not a traceback."""
    import importlib.util  # noqa: PLC0415

    missing = [m for m in ("fpdf", "matplotlib", "jinja2") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(
            f"the PDF and HTML report need {', '.join(missing)}: pip install 'scale-agent[report]'"
        )


def _config(args: argparse.Namespace) -> AgentConfig | None:
    if not getattr(args, "config", None):
        return None
    from scale_agent.io.config import load_config  # noqa: PLC0415

    return load_config(Path(args.config)).agent


def _zone(name: str | None) -> ZoneInfo:
    if name is None:
        local = datetime.now().astimezone().tzinfo
        key = getattr(local, "key", None)
        try:
            return ZoneInfo(key or _etc_localtime())
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"--tz {printable(name)}: not a time zone (try Asia/Shanghai)") from exc


def _etc_localtime() -> str:
    """The zone name /etc/localtime points at (Debian links it into /usr/share/zoneinfo)."""
    target = str(Path("/etc/localtime").resolve())
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else "UTC"


def _remedy(args: argparse.Namespace, config: AgentConfig | None) -> claims.RemedySettings:
    section = config.remedy if config else None
    rule = args.rule or (section.rule if section else "refund")
    if section is None:
        return claims.RemedySettings(rule=claims.RemedyRule(rule))
    return claims.RemedySettings(
        rule=claims.RemedyRule(rule),
        currency=section.currency,
        voucher_rate=Decimal(section.voucher_rate),
        voucher_minimum=Decimal(section.voucher_minimum),
    )
