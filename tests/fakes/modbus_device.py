"""An in-process Modbus device (pymodbus 3.16 server) for tests: the only pymodbus import in
the tests. It serves TCP on a free port, or RTU on a serial device path (one end of a
`NullModem`), for one or several unit ids; it runs its own asyncio loop in a thread, and tests
set registers and read coils."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from typing import Any

from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from tests.fakes.mosquitto import free_port

HOLDING, INPUT, COILS = 3, 4, 1  # pymodbus function codes for get/setValues


class ModbusDevice:
    """Coils, discrete inputs, holding and input registers (64 of each) per unit id.

    With `serial_port`, the server speaks RTU on that device path (9600 8N1) instead of TCP.
    """

    def __init__(
        self,
        device_id: int = 1,
        port: int | None = None,
        *,
        more_ids: tuple[int, ...] = (),
        serial_port: str | None = None,
    ) -> None:
        self.device_id = device_id
        self.device_ids = (device_id, *more_ids)
        self.serial_port = serial_port
        self.port = port or free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="modbus-device", daemon=True
        )
        self._thread.start()
        self._server: Any = None
        self.start()

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def start(self) -> None:
        """Serve (again) on the same port; registers start at zero."""
        bits = [SimData(0, count=64, values=False, datatype=DataType.BITS)]
        words = [SimData(0, count=64, values=0, datatype=DataType.REGISTERS)]
        devices = [
            SimDevice(id=unit, simdata=(bits, list(bits), words, list(words)))
            for unit in self.device_ids
        ]

        async def serve() -> None:
            if self.serial_port is None:
                self._server = ModbusTcpServer(devices, address=("127.0.0.1", self.port))
            else:
                self._server = ModbusSerialServer(
                    devices, port=self.serial_port, baudrate=9600, reconnect_delay=0.1
                )
            await self._server.serve_forever(background=True)

        self._run(serve())

    def stop(self) -> None:
        """Stop answering (the port closes)."""
        if self._server is not None:
            server, self._server = self._server, None

            async def shutdown() -> None:
                for connection in list(server.active_connections.values()):
                    if connection.transport is not None:
                        connection.transport.close()
                await server.shutdown()
                await asyncio.sleep(0)  # let the closes run

            self._run(shutdown())
            _collect_quietly()

    def set(self, function: int, address: int, values: list[int], unit: int | None = None) -> None:
        """Set registers (HOLDING or INPUT) from `address` on."""
        device_id = self.device_id if unit is None else unit
        self._run(self._server.async_setValues(device_id, function, address, values))

    def get(self, function: int, address: int, count: int, unit: int | None = None) -> list[Any]:
        """Read what the driver wrote (coils or registers)."""
        device_id = self.device_id if unit is None else unit
        values: list[Any] = self._run(
            self._server.async_getValues(device_id, function, address, count)
        )
        return values

    def close(self) -> None:
        """Stop the server and its loop."""
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
        _collect_quietly()


def _collect_quietly() -> None:
    """Collect what the pymodbus server left behind now, in this fixture, not in a later test.

    pymodbus 3.16 can leave the transport of a connection that dropped during shutdown
    unclosed; its ResourceWarning would otherwise surface in whichever test the garbage
    collector happens to run in.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
