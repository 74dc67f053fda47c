"""How many Modbus reads per second one indicator delivers over loopback TCP.

The driver polls an in-process pymodbus server (the tests' fake device) as fast as it may:
each read is one block request covering weight and status (the Laumas map: 5 registers).
Run: .venv/bin/python -m bench.modbus_reads
"""

from __future__ import annotations

import time

from drivers.scales.modbus_register import ModbusScale, Settings
from tests.fakes.modbus_device import HOLDING, ModbusDevice


def main(seconds: float = 3.0) -> None:
    device = ModbusDevice()
    device.set(HOLDING, 6, [1 << 11, 0, 0, 0, 12345])
    driver = ModbusScale(
        Settings(
            host="127.0.0.1",
            tcp_port=device.port,
            preset="laumas",
            unit="kg",
            decimals=3,
            poll_interval_s=0.01,
        )
    )
    driver._next_poll = 0.0  # noqa: SLF001
    driver.open()
    reads = 0
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < seconds:
            driver._next_poll = 0.0  # noqa: SLF001 - no pacing: how fast can it go
            reads += len(driver.read())
    finally:
        driver.close()
        device.close()
    elapsed = time.perf_counter() - started
    print(
        f"modbus reads over loopback TCP (Laumas map, 5 registers each): "
        f"{reads / elapsed:,.0f} reads/s ({reads} in {elapsed:.1f} s)"
    )


if __name__ == "__main__":
    main()
