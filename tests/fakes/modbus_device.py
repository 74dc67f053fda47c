"""An in-process Modbus TCP device (pymodbus 3.16 server) for tests: the only pymodbus import
in the tests. It runs its own asyncio loop in a thread; tests set registers and read coils."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from typing import Any

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from tests.fakes.mosquitto import free_port

HOLDING, INPUT, COILS = 3, 4, 1  # pymodbus function codes for get/setValues


class ModbusDevice:
    """Coils, discrete inputs, holding and input registers (64 of each) at one unit id."""

    def __init__(self, device_id: int = 1, port: int | None = None) -> None:
        self.device_id = device_id
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
        device = SimDevice(id=self.device_id, simdata=(bits, list(bits), words, list(words)))

        async def serve() -> None:
            self._server = ModbusTcpServer(device, address=("127.0.0.1", self.port))
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

    def set(self, function: int, address: int, values: list[int]) -> None:
        """Set registers (HOLDING or INPUT) from `address` on."""
        self._run(self._server.async_setValues(self.device_id, function, address, values))

    def get(self, function: int, address: int, count: int) -> list[Any]:
        """Read what the driver wrote (coils or registers)."""
        values: list[Any] = self._run(
            self._server.async_getValues(self.device_id, function, address, count)
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
