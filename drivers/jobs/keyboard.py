"""USB keyboard-wedge scanners read from the Linux input layer, grabbed from the desktop.

A wedge scanner is a keyboard: each code arrives as key presses on
``/dev/input/by-id/usb-<vendor>-event-kbd``. The device is grabbed (EVIOCGRAB), so scans
never type into whatever window has focus, and key codes are turned into characters with the
shift state and the configured layout; Ctrl+] is GS (FNC1 in GS1 codes), Enter ends a code.
Each record is a ``struct input_event`` (linux/input.h): on 64-bit Linux a 16-byte timeval,
then ``__u16 type, __u16 code, __s32 value``; type 1 is EV_KEY, value 1 press, 0 release,
2 auto-repeat. Reading it needs the ``input`` group.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
from typing import Literal

from drivers.jobs._codes import CodeSettings, CodeSplitter, read_ready
from scale_agent.errors import DeviceUnavailableError

EVENT = struct.Struct("llHHi")
EV_KEY = 1
EVIOCGRAB = 0x40044590  # _IOW('E', 0x90, int)
SHIFTS = {42, 54}  # KEY_LEFTSHIFT, KEY_RIGHTSHIFT
CTRLS = {29, 97}  # KEY_LEFTCTRL, KEY_RIGHTCTRL
ENTER = {28, 96}  # KEY_ENTER, KEY_KPENTER
GS = "\x1d"
KEY_RIGHTBRACE = 27

# US layout: key code -> (plain, shifted). Keypad keys are the same either way.
_US_ROWS = {
    2: "1!", 3: "2@", 4: "3#", 5: "4$", 6: "5%", 7: "6^", 8: "7&", 9: "8*", 10: "9(", 11: "0)",
    12: "-_", 13: "=+", 15: "\t\t", 16: "qQ", 17: "wW", 18: "eE", 19: "rR", 20: "tT", 21: "yY",
    22: "uU", 23: "iI", 24: "oO", 25: "pP", 26: "[{", 27: "]}", 30: "aA", 31: "sS", 32: "dD",
    33: "fF", 34: "gG", 35: "hH", 36: "jJ", 37: "kK", 38: "lL", 39: ";:", 40: "'\"", 41: "`~",
    43: "\\|", 44: "zZ", 45: "xX", 46: "cC", 47: "vV", 48: "bB", 49: "nN", 50: "mM", 51: ",<",
    52: ".>", 53: "/?", 55: "**", 57: "  ", 71: "77", 72: "88", 73: "99", 74: "--", 75: "44",
    76: "55", 77: "66", 78: "++", 79: "11", 80: "22", 81: "33", 82: "00", 83: "..", 98: "//",
}  # fmt: skip
# German (QWERTZ) differs from US on these keys; everything else is shared.
_DE_CHANGES = {
    3: '2"', 4: "3§", 7: "6&", 8: "7/", 9: "8(", 10: "9)", 11: "0=", 12: "ß?", 13: "´`",  # noqa: RUF001 - the German dead key
    21: "zZ", 26: "üÜ", 27: "+*", 39: "öÖ", 40: "äÄ", 41: "^°", 43: "#'", 44: "yY", 51: ",;",
    52: ".:", 53: "-_",
}  # fmt: skip
LAYOUTS = {"us": _US_ROWS, "de": {**_US_ROWS, **_DE_CHANGES}}


class Settings(CodeSettings):
    """Keyboard-wedge keys: the event device, the layout, and whether to grab it."""

    device: str  # /dev/input/by-id/usb-...-event-kbd
    layout: Literal["us", "de"] = "us"
    grab: bool = True
    terminator: str = "\n"  # Enter, as the decoder reports it


class KeyDecoder:
    """Turns input_event records into codes; tracks shift and ctrl across reads."""

    def __init__(self, settings: Settings) -> None:
        self.keys = LAYOUTS[settings.layout]
        self.shifted: set[int] = set()
        self.ctrl: set[int] = set()
        self.unknown = 0  # presses of keys the layout has no character for
        self._pending = b""
        self._splitter = CodeSplitter(settings)

    def feed(self, data: bytes) -> list[str]:
        """Codes completed by these bytes (records may be split across reads)."""
        data = self._pending + data
        usable = len(data) - len(data) % EVENT.size
        self._pending = data[usable:]
        text = []
        for _sec, _usec, kind, code, value in EVENT.iter_unpack(data[:usable]):
            if kind == EV_KEY:
                text.append(self._key(code, value))
        return self._splitter.feed("".join(text))

    def _key(self, code: int, value: int) -> str:
        for held in (self.shifted, self.ctrl):
            if code in (SHIFTS if held is self.shifted else CTRLS):
                (held.add if value else held.discard)(code)
                return ""
        if value != 1:
            return ""  # releases and auto-repeat type nothing
        if code in ENTER:
            return "\n"
        if self.ctrl:
            return GS if code == KEY_RIGHTBRACE else ""
        pair = self.keys.get(code)
        if pair is None:
            self.unknown += 1
            return ""
        return pair[1] if self.shifted else pair[0]


class KeyboardScanner:
    """A wedge scanner's event device, grabbed while open."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._fd: int | None = None
        self.decoder = KeyDecoder(settings)

    @property
    def device(self) -> str:
        """The event device path."""
        return self.settings.device

    def open(self) -> None:
        """Open and grab the device; say plainly why not (missing, or the `input` group)."""
        path = self.settings.device
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise DeviceUnavailableError(path, _diagnose(path, exc)) from exc
        if self.settings.grab:
            try:
                fcntl.ioctl(fd, EVIOCGRAB, 1)
            except OSError as exc:
                if exc.errno != errno.ENOTTY:  # a recording (file or pipe) has nothing to grab
                    os.close(fd)
                    raise DeviceUnavailableError(
                        path, f"cannot grab {path}: another program holds it ({exc.strerror})"
                    ) from exc
        self._fd = fd
        self.decoder = KeyDecoder(self.settings)

    def read(self) -> list[str]:
        """Codes typed since the last call, waiting at most 0.2 s."""
        gone = f"{self.device} went away (unplugged?)"
        return self.decoder.feed(read_ready(self._fd, self.device, EVENT.size * 64, gone))

    def close(self) -> None:
        """Release the grab and close; safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)  # closing releases the grab


def _diagnose(path: str, exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return f"{path} is missing: is the scanner plugged in? (see ls /dev/input/by-id/)"
    if exc.errno == errno.EACCES:
        return f"permission denied on {path}: add the service user to the 'input' group"
    return f"{path}: {exc.strerror}"


DRIVER = KeyboardScanner
