"""Frames per second for each decoder, on one core (target: >= 200,000 frames/s).

Run: .venv/bin/python -m bench.decode
"""

from __future__ import annotations

import time

from drivers.scales import mt_sics

FRAMES = [b"S S      1.250 kg\r\n", b"S D      1.248 kg\r\n", b"S S     -0.015 kg\r\n"]


def frames_per_second(feed_size: int, total_frames: int = 300_000) -> float:
    stream = b"".join(FRAMES * (total_frames // len(FRAMES)))
    chunks = [stream[i : i + feed_size] for i in range(0, len(stream), feed_size)]
    decoder = mt_sics.Decoder()
    started = time.perf_counter()
    decoded = 0
    for chunk in chunks:
        decoded += len(decoder.feed(chunk))
    elapsed = time.perf_counter() - started
    assert decoded == total_frames
    return decoded / elapsed


def main() -> None:
    for size, label in ((4096, "4 KiB reads"), (20, "one frame per read"), (7, "7-byte fragments")):
        print(f"mt-sics decoder, {label:>18}: {frames_per_second(size):>10,.0f} frames/s")


if __name__ == "__main__":
    main()
