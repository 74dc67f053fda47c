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
ANCHOR_KEPT = phrase("the head the station last published")
ANCHOR_NONE = phrase("none available: give --anchor, or publish heads over MQTT")
HOW_TO_VERIFY = phrase(
    "To verify independently: export the record with `scale-agent records export --order "
    "{order}`; its hash is SHA-256 of the previous hash, a newline and the record's canonical "
    "JSON. `scale-agent records verify --anchor mqtt` checks the whole chain against the head "
    "the station signed (Ed25519) and published."
)
CLAIM = phrase("Claim")
FINDING = phrase("What the record says")
REMEDY = phrase("Suggested remedy")
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
