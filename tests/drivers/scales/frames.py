"""Helpers to build frames for the protocol tables."""

from __future__ import annotations


def toledo(
    a: int, b: int, c: int, weight: str, tare: str = "000000", *, checksum: str = "mettler"
) -> bytes:
    """A Toledo continuous frame with its checksum."""
    body = bytes([0x02, a, b, c]) + weight.encode() + tare.encode() + b"\r"
    if checksum == "mettler":
        return body + bytes([(-sum(body)) & 0x7F])
    if checksum == "sum8":
        return body + bytes([sum(body) & 0xFF])
    return body


def even_parity(data: bytes) -> bytes:
    """The bytes as a 7E1 device sends them, read by an 8N1 port (parity in bit 7)."""
    return bytes(byte | 0x80 if byte.bit_count() % 2 else byte for byte in data)
