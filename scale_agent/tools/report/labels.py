"""Every word the order report prints, as phrases (translated through the gettext catalogs)."""

from __future__ import annotations

from scale_agent.domain.phrases import phrase

TITLE = phrase("Packing record for order {order}")
SUBTITLE = phrase("Weighed and judged at the packing station before the parcel was sealed")
STATION = phrase("Station")
SCALE = phrase("Scale")
SCALE_TEST = phrase("Last reference check")
NO_TEST = phrase("none recorded")
PACKED_AT = phrase("Packed at")
ITEMS = phrase("Items in the order")
SKU = phrase("SKU")
ITEM = phrase("Item")
QTY = phrase("Qty")
UNIT_WEIGHT = phrase("Unit weight")
UNIT_PRICE = phrase("Unit price")
CARTON = phrase("Carton")
EXPECTED = phrase("Expected weight")
LIMITS = phrase("Accepted range")
MEASURED = phrase("Measured (settled)")
VERDICT = phrase("Verdict")
POLICY = phrase("Tolerance policy")
POLICY_OF = phrase("{name}, version {version}: {rule}")
POLICY_KINDS = {  # by Policy.kind
    "limits": phrase("absolute and percent limits"),
    "bands": phrase("limits by weight band"),
    "sigma": phrase("k times the combined uncertainty"),
    "legal": phrase("legal tolerable negative error (OIML R 87 / JJF 1070)"),
}
EXPLANATION = phrase("Explanation")
OVERRIDE = phrase("Override")
OVERRIDE_BY = phrase("by {operator}: {reason}")
NONE = phrase("none")
TRACE = phrase("Weight trace")
TRACE_X = phrase("seconds before the verdict")
TRACE_Y = phrase("grams")
TRACE_READING = phrase("readings")
TRACE_STABLE = phrase("stable readings (settle window)")
TRACE_LIMITS = phrase("accepted range")
TRACE_EXPECTED = phrase("expected")
PHOTOS = phrase("Photos")
PHOTO_STATES = {  # by PhotoState
    "held": phrase("matches its recorded SHA-256"),
    "altered": phrase("ALTERED: does not match its recorded SHA-256"),
    "gone": phrase("no longer on disk"),
}
PHOTO_MOMENTS = {  # by `[camera] moments`
    "verdict": phrase("Taken at the verdict, {at}"),
}
WEIGHINGS = phrase("Every weighing of this order")
VERIFICATION = phrase("Verification")
RECORD_HASH = phrase("Record hash")
PREVIOUS_HASH = phrase("Previous record's hash")
POSITION = phrase("Chain position")
POSITION_OF = phrase("record {seq} of {count}; chain {state}")
INTACT = phrase("intact")
BROKEN = phrase("BROKEN at record {seq}")
ANCHOR = phrase("Anchored head")
ANCHOR_HELD = phrase("record {records}, signed {signed_at} by {station} ({source}): held")
ANCHOR_NOT_HELD = phrase("NOT HELD: {problem}")
ANCHOR_KEPT = phrase("the head the station last signed and kept")
ANCHOR_NONE = phrase("none available: give --anchor HEAD, a copy of the station's signed head")
HOW_TO_VERIFY = phrase(
    "To verify independently: export the record with `scale-agent records export --order "
    "{order}`; its hash is SHA-256 of the previous hash, a newline and the record's canonical "
    "JSON. `scale-agent records verify --anchor HEAD` checks the whole chain against a head "
    "the station signed (Ed25519) and that was kept away from it: a copy of its "
    "chain_head.json, or the broker's retained head (`--anchor mqtt`) where it publishes one."
)
HOW_TO_VERIFY_UNANCHORED = phrase(
    "To verify independently: export the record with `scale-agent records export --order "
    "{order}`; its hash is SHA-256 of the previous hash, a newline and the record's canonical "
    "JSON. `scale-agent records verify` checks the whole chain link by link."
)
CLAIM = phrase("Claim")
FINDING = phrase("What the record says")
REMEDY = phrase("Suggested remedy")
RULES = {  # by RemedyRule
    "refund": phrase("by the site's rule: refund"),
    "reship": phrase("by the site's rule: re-ship"),
    "voucher": phrase("by the site's rule: voucher"),
}
FINDINGS = {
    "supported": phrase("SUPPORTED by the record"),
    "contradicted": phrase("CONTRADICTED by the record"),
    "inconclusive": phrase("NOT DECIDED by the weight"),
}
VERDICTS = {
    "PASS": phrase("PASS"),
    "UNDER": phrase("TOO LIGHT"),
    "OVER": phrase("TOO HEAVY"),
    "MISSING_ITEM": phrase("MISSING ITEM"),
    "EXTRA_ITEM": phrase("EXTRA ITEM"),
    "RECHECK": phrase("RECHECK"),
    "UNSTABLE": phrase("NOT STEADY"),
    "NO_JOB": phrase("NO ORDER"),
    "SCALE_FAULT": phrase("SCALE FAULT"),
}
CAUTIONS = phrase("What weakens this record")
NOT_HELD = phrase("the record does not hold: see below")
CAUTION_CHAIN = phrase(
    "The ledger's hash chain is BROKEN at record {seq}: the ledger was altered after it was "
    "written, and records from there on cannot be relied on."
)
CAUTION_COLUMNS = phrase(
    "This record's stored columns ({columns}) were changed outside the hash chain; the report "
    "shows the record as it was hashed."
)
CAUTION_NO_ANCHOR = phrase(
    "No signed chain head is available: deleted or rewritten newest records could not be detected."
)
CAUTION_ANCHOR = phrase(
    "The station's signed chain head is NOT held by this ledger ({problem}): records may "
    "have been deleted or rewritten."
)
CAUTION_PHOTO_ALTERED = phrase("A photo of this parcel does not match its recorded SHA-256.")
CAUTION_PHOTO_GONE = phrase("A photo of this parcel is no longer on disk.")
CAUTION_NO_TEST = phrase("No routine scale test was recorded before this weighing.")
CAUTION_TEST_FAILED = phrase("The last routine scale test before this weighing had failed.")
CAUTION_SUPERSEDED = phrase(
    "SUPERSEDED: this is not the order's final record. The order was weighed again and left "
    "the bench as record {seq} ({at}): {verdict}. A claim is judged against that record."
)
WITHIN = phrase("Weight within limits")
EXPLAINED_MISSING = phrase("Light by {amount}: {items} missing explains it ({sigma} sigma)")
EXPLAINED_EXTRA = phrase("Heavy by {amount}: {items} extra explains it ({sigma} sigma)")
UNEXPLAINED_LIGHT = phrase("Light by {amount}: no whole number of the order's units explains it")
UNEXPLAINED_HEAVY = phrase("Heavy by {amount}: no whole number of the order's units explains it")
