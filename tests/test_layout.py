"""The architecture is enforced, not just drawn.

The core is layered, each layer importing only the ones below it:

    tools -> station -> io -> domain -> driver API (plugins, signals, weights, errors, backoff)

Drivers import only the driver API; the core imports no driver and no hardware library; only
`scale_agent/io/mqtt/` imports paho. Imports under `if TYPE_CHECKING:` count too: a type
that points upward is a dependency that points upward.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import pytest

from tests.conftest import REPO

if TYPE_CHECKING:
    from pathlib import Path

HARDWARE = {"serial", "pymodbus", "hid"}
DRIVER_API = {"plugins", "signals", "weights", "errors", "models", "text", "testing", "backoff"}
# Lower number = lower layer. A module may import its own layer and any layer below it.
LAYERS = {"api": 0, "domain": 1, "io": 2, "station": 3, "tools": 4}


def _modules(path: Path) -> set[str]:
    """Every module path imported by `path`, dotted and in full."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _imports(path: Path) -> set[str]:
    return {name.split(".")[0] for name in _modules(path)}


def _layer(module: str) -> str | None:
    """The layer of a `scale_agent.*` module, None for anything else."""
    parts = module.split(".")
    if parts[0] != "scale_agent" or len(parts) < 2:
        return None
    if parts[1] in LAYERS:
        return parts[1]
    return "api" if parts[1] in DRIVER_API else "tools"  # __main__ sits on top


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    return ".".join(part for part in rel.parts if part != "__init__")


def _upward_imports(root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        own = (_layer(_module_name(path)) if root.name == "scale_agent" else None) or "api"
        bad = sorted(
            name
            for name in _modules(path)
            if (layer := _layer(name)) is not None and LAYERS[layer] > LAYERS[own]
        )
        if bad:
            found[str(path.relative_to(REPO))] = bad
    return found


def test_core_layers_import_only_downward() -> None:
    assert _upward_imports(REPO / "scale_agent") == {}


def test_drivers_import_only_the_driver_api() -> None:
    assert _upward_imports(REPO / "drivers") == {}


def test_no_core_module_imports_drivers_or_hardware_libraries() -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(_imports(path) & (HARDWARE | {"drivers"}))
        for path in (REPO / "scale_agent").rglob("*.py")
    }
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_only_the_mqtt_module_imports_paho() -> None:
    users = sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "scale_agent").rglob("*.py")
        if "paho" in _imports(path)
    )
    assert users
    assert all(user.startswith("scale_agent/io/mqtt/") for user in users), users


def test_every_core_module_sits_in_a_layer() -> None:
    loose = sorted(
        path.name
        for path in (REPO / "scale_agent").glob("*.py")
        if path.stem not in DRIVER_API | {"__init__", "__main__"}
    )
    assert loose == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from drivers.scales import mt_sics\nimport serial\n", {"drivers", "serial"}),
        ("from scale_agent.station.runtime import StationRuntime\n", {"scale_agent"}),
    ],
)
def test_the_checks_would_notice_a_bad_import(
    tmp_path: Path, source: str, expected: set[str]
) -> None:
    module = tmp_path / "bad.py"
    module.write_text(source)
    assert _imports(module) >= expected


def test_the_layer_check_would_notice_an_upward_import(tmp_path: Path) -> None:
    domain = tmp_path / "scale_agent" / "domain"
    domain.mkdir(parents=True)
    (domain / "rule.py").write_text("from scale_agent.io.ledger import Ledger\n")
    modules = _modules(domain / "rule.py")
    assert [m for m in modules if LAYERS[_layer(m) or "api"] > LAYERS["domain"]] == [
        "scale_agent.io.ledger"
    ]


def test_every_error_class_lives_in_the_error_tree() -> None:
    elsewhere = sorted(
        f"{path.relative_to(REPO)}:{node.name}"
        for root in ("scale_agent", "drivers")
        for path in (REPO / root).rglob("*.py")
        if path.name != "errors.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef) and node.name.endswith(("Error", "Exception"))
    )
    assert elsewhere == []


def test_one_strict_model_base() -> None:
    copies = sorted(
        str(path.relative_to(REPO))
        for root in ("scale_agent", "drivers")
        for path in (REPO / root).rglob("*.py")
        if 'extra="forbid"' in path.read_text() and path.name != "models.py"
    )
    assert copies == []


def _assigns_logic_attributes(path: Path) -> list[str]:
    """`x.logic.attr = ...` or `logic.attr = ...`: writing the state machine from outside."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AugAssign | ast.AnnAssign)
            else []
        )
        for target in targets:
            if not isinstance(target, ast.Attribute):
                continue
            owner = target.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name == "logic":
                found.append(f"{path.name}:{target.lineno} .{target.attr}")
    return found


STATE_MACHINE = {"logic.py", "parcel_flow.py"}  # station/: StationLogic and its ParcelFlow base


def test_nothing_outside_the_state_machine_assigns_its_attributes() -> None:
    writers = [
        hit
        for path in (REPO / "scale_agent").rglob("*.py")
        if path.name not in STATE_MACHINE
        for hit in _assigns_logic_attributes(path)
    ]
    assert writers == []


def test_the_seal_check_would_notice_an_outside_write(tmp_path: Path) -> None:
    module = tmp_path / "desk.py"
    module.write_text("def f(self):\n    self.logic.packing_note = 'x'\n")
    assert _assigns_logic_attributes(module) == ["desk.py:2 .packing_note"]


def _import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the `scale_agent` modules it imports (type-only imports too)."""
    modules = {_module_name(path): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    whole = f"{node.module}.{alias.name}"  # a module imported from a package
                    found.add(whole if whole in modules else node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {module for module in found if module in modules and module != name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: groups of modules that reach each other (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while (member := stack.pop()) != module:
                group.append(member)
            if group:
                circles.append(sorted([module, *group]))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return circles


def test_no_import_circles() -> None:
    # The direction of every dependency says which part is the more basic one.
    assert _circles(_import_graph(REPO / "scale_agent")) == []


def test_the_circle_check_would_notice_one() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# The central's pure parts: what the pages show, computed from plain rows, with no database,
# web framework or broker (they are tested as functions, like the station's domain/).
CENTRAL_PURE = ("rows", "views", "summary", "skus", "charts", "language", "desk", "problems")
CENTRAL_IO = {"sqlalchemy", "alembic", "psycopg", "fastapi", "starlette", "uvicorn", "paho"}
CENTRAL_SHELL = ("store", "web", "ingest", "service", "settings", "schema", "migrations")


@pytest.mark.parametrize("name", CENTRAL_PURE)
def test_the_centrals_pure_parts_do_no_io(name: str) -> None:
    path = REPO / "scale_agent" / "central" / f"{name}.py"
    imported = _modules(path)
    assert {module.split(".")[0] for module in imported} & CENTRAL_IO == set()
    shell = {f"scale_agent.central.{part}" for part in CENTRAL_SHELL}
    assert not {m for m in imported if any(m == s or m.startswith(f"{s}.") for s in shell)}


MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250
COMPLEXITY_RULES = ("C901", "PLR0912", "PLR0915")  # too complex, too many branches or statements


def _oversized(path: Path) -> list[str]:
    """Modules over 400 lines, classes over 250, functions excused from a complexity rule."""
    text = path.read_text()
    found = []
    if (lines := text.count("\n")) > MAX_MODULE_LINES:
        found.append(f"{path.name}: {lines} lines")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef):
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            if size > MAX_CLASS_LINES:
                found.append(f"{path.name}: class {node.name} {size} lines")
    found += [
        f"{path.name}:{number} noqa {rule}"
        for number, line in enumerate(text.splitlines(), 1)
        for rule in COMPLEXITY_RULES
        if "noqa" in line and rule in line.split("noqa", 1)[1]
    ]
    return found


def test_no_module_class_or_function_outgrows_a_reading() -> None:
    too_big = [
        hit
        for folder in ("scale_agent", "drivers")
        for path in sorted((REPO / folder).rglob("*.py"))
        for hit in _oversized(path)
    ]
    assert too_big == []


def test_the_size_check_would_notice(tmp_path: Path) -> None:
    module = tmp_path / "big.py"
    body = "\n".join(f"    x{n} = {n}" for n in range(260))
    module.write_text(f"class Big:\n{body}\n\n\ndef f():  # noqa: C901 - long\n    pass\n")
    assert _oversized(module) == ["big.py: class Big 261 lines", "big.py:264 noqa C901"]
