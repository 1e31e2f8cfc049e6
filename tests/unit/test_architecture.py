"""Import rules of DESIGN.md "Packages" and STYLE.md P1, checked by reading the source with ``ast``.

- ``hub`` imports none of the other packages, except the composition root ``hub/bootstrap.py``;
  the CLI (``hub/cli/``) reaches them only through ``hub.bootstrap``.
- ``channels``, ``bot``, ``routing``, ``voice`` and ``console`` import ``hub`` and never each other.
- The pure core imports no I/O library, directly or through the project modules it imports.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hub", "channels", "bot", "routing", "voice", "console")
ADAPTER_PACKAGES = ("channels", "bot", "routing", "voice", "console")
COMPOSITION_ROOT = "hub/bootstrap.py"
CLI = "hub/cli"  # the package of the hub command: parser, serve, admin and bot commands

PURE_CORE = [
    "hub/domain",
    "routing/policy.py",
    "hub/ratelimit.py",
    "hub/kpi.py",
    "hub/kpi_intervals.py",
    "hub/kpi_figures.py",
    "hub/kpi_fcr.py",
    "hub/staffing.py",
    "hub/forecast.py",
    "bot/handover.py",
    "channels/webchat/parser.py",
    "channels/webchat/identity.py",
    "voice/pbx_config.py",
    "voice/dialplan.py",
    "hub/work_orders/kinds.py",
    "hub/work_orders/states.py",
    "hub/work_orders/calendar.py",
    "hub/work_orders/sla.py",
    "hub/work_orders/model.py",
    "hub/work_orders/notices.py",
    "hub/work_orders/survey.py",
]
IO_LIBS = frozenset({
    # named by STYLE.md P1 and the brief
    "aiohttp", "pymongo", "redis", "telegram", "panoramisk", "vosk", "aiosmtplib", "aioimaplib",
    "socket", "subprocess",
    # the same kinds of thing under other names
    "motor", "requests", "httpx", "websockets", "smtplib", "imaplib", "ssl", "asyncssh", "urllib.request",
    "http.client", "http.server",
})


@dataclass(frozen=True, slots=True)
class Imported:
    module: str  # absolute dotted name
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve_relative(path: Path, module: str | None, level: int) -> str:
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()  # a module's package is its parent
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, module] if module else base)


def imports_of(path: Path) -> list[Imported]:
    """Every module a file can import: top level, inside functions, under ``if``/``try``,
    relative imports resolved, and ``importlib.import_module``/``__import__`` with a literal name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Imported] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Imported(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(path, node.module, node.level) if node.level else (node.module or "")
            found.append(Imported(base, node.lineno))
            # ``from hub import bootstrap`` imports the module hub.bootstrap
            found.extend(
                Imported(f"{base}.{alias.name}", node.lineno) for alias in node.names if alias.name != "*"
            )
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append(Imported(arg.value, node.lineno))
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def top(module: str) -> str:
    return module.split(".", 1)[0]


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def py_files(*locations: str) -> list[Path]:
    files: list[Path] = []
    for location in locations:
        target = ROOT / location
        files.extend(sorted(target.rglob("*.py")) if target.is_dir() else [target])
    return files


def describe(path: Path, bad: list[Imported], indent: str = "") -> str:
    """One line per offending import; ``from x import y`` is shown once, as x, unless only x.y offends."""
    shown = [
        i for i in bad
        if not any(o != i and o.line == i.line and within(i.module, o.module) for o in bad)
    ]
    return "\n".join(f"{indent}{rel(path)}:{i.line} imports {i.module}" for i in shown)


# --- the collector itself -------------------------------------------------------------------------

def test_collector_sees_every_form_of_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    source = tmp_path / "pkg" / "sub" / "mod.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "import os.path, json as j\n"
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "from ..other import thing\n"
        "from .near import far\n"
        "if TYPE_CHECKING:\n"
        "    import guarded\n"
        "try:\n"
        "    import tried\n"
        "except ImportError:\n"
        "    pass\n"
        "def f():\n"
        "    from inner.mod import x\n"
        "    import importlib\n"
        "    importlib.import_module('dynamic.one')\n"
        "    return __import__('dynamic_two')\n"
        "class C:\n"
        "    import in_class\n",
        encoding="utf-8",
    )
    modules = {i.module for i in imports_of(source)}
    assert modules == {
        "os.path", "json", "typing", "typing.TYPE_CHECKING",
        "pkg.sub", "pkg.sub.sibling", "pkg.other", "pkg.other.thing", "pkg.sub.near", "pkg.sub.near.far",
        "guarded", "tried", "inner.mod", "inner.mod.x", "importlib", "dynamic.one", "dynamic_two", "in_class",
    }
    assert [i.line for i in imports_of(source) if i.module == "inner.mod"] == [13]


def test_relative_import_from_a_package_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    init = tmp_path / "pkg" / "sub" / "__init__.py"
    init.parent.mkdir(parents=True)
    init.write_text("from . import a\nfrom .. import b\n", encoding="utf-8")
    assert {i.module for i in imports_of(init)} == {"pkg.sub", "pkg.sub.a", "pkg", "pkg.b"}


def test_the_scan_covers_the_project() -> None:
    scanned = {rel(p) for p in py_files(*PACKAGES)}
    for expected in (COMPOSITION_ROOT, f"{CLI}/__init__.py", f"{CLI}/serve.py", "hub/domain/states.py",
                     "routing/policy.py",
                     "channels/webchat/parser.py", "console/app.py"):
        assert expected in scanned
    assert {rel(p) for p in py_files(*PURE_CORE)} >= {
        "hub/domain/ids.py", "hub/domain/model.py", "hub/domain/states.py", "routing/policy.py",
        "hub/ratelimit.py", "channels/webchat/parser.py", "channels/webchat/identity.py",
        "hub/domain/visibility.py", "hub/domain/events.py",
    }


# --- (a) hub imports none of the other packages ---------------------------------------------------

HUB_FILES = [p for p in py_files("hub") if rel(p) != COMPOSITION_ROOT]


@pytest.mark.parametrize("path", HUB_FILES, ids=rel)
def test_hub_does_not_import_other_packages(path: Path) -> None:
    bad = [i for i in imports_of(path) if top(i.module) in ADAPTER_PACKAGES]
    assert not bad, "hub must not depend on adapter packages:\n" + describe(path, bad)


def test_only_the_cli_imports_the_composition_root() -> None:
    bad = {
        rel(path): [i for i in imports_of(path) if within(i.module, "hub.bootstrap")]
        for path in py_files(*PACKAGES)
        if rel(path) != COMPOSITION_ROOT and not rel(path).startswith(CLI + "/")
    }
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, "\n".join(describe(ROOT / k, v) for k, v in bad.items())


@pytest.mark.parametrize("path", py_files(CLI), ids=rel)
def test_cli_reaches_the_adapters_only_through_bootstrap(path: Path) -> None:
    bad = [i for i in imports_of(path) if top(i.module) in ADAPTER_PACKAGES]
    assert not bad, describe(path, bad)


def test_the_cli_runs_via_bootstrap() -> None:
    imported = [i for path in py_files(CLI) for i in imports_of(path)]
    assert any(within(i.module, "hub.bootstrap") for i in imported), "hub/cli should run via hub.bootstrap"


# --- (b) adapter packages import only hub ---------------------------------------------------------

ADAPTER_FILES = [(pkg, p) for pkg in ADAPTER_PACKAGES for p in py_files(pkg)]


@pytest.mark.parametrize(("package", "path"), ADAPTER_FILES, ids=[rel(p) for _, p in ADAPTER_FILES])
def test_adapter_packages_do_not_import_each_other(package: str, path: Path) -> None:
    bad = [i for i in imports_of(path) if top(i.module) in ADAPTER_PACKAGES and top(i.module) != package]
    assert not bad, f"{package} may import only hub and itself:\n" + describe(path, bad)


# --- (c) the pure core is I/O free ----------------------------------------------------------------

def io_imports(path: Path) -> list[Imported]:
    return [i for i in imports_of(path) if any(within(i.module, lib) for lib in IO_LIBS)]


def project_file(module: str) -> Path | None:
    """The project file that defines ``module`` (or the longest importable prefix of it)."""
    parts = module.split(".")
    if parts[0] not in PACKAGES:
        return None
    for end in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:end])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def loaded_with(path: Path) -> Iterator[tuple[Path, list[str]]]:
    """Every project file importing ``path`` executes (package ``__init__``s included), with the chain."""
    seen: set[Path] = set()
    stack: list[tuple[Path, list[str]]] = [(path, [rel(path)])]
    package = module_name(path).split(".")
    for end in range(1, len(package)):  # its own packages' __init__s run first
        init = project_file(".".join(package[:end]))
        if init is not None:
            stack.append((init, [rel(path), rel(init)]))
    while stack:
        current, chain = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        yield current, chain
        for imported in imports_of(current):
            parts = imported.module.split(".")
            for end in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ too
                target = project_file(".".join(parts[:end]))
                if target is not None and target not in seen:
                    stack.append((target, [*chain, rel(target)]))


CORE_FILES = py_files(*PURE_CORE)


@pytest.mark.parametrize("path", CORE_FILES, ids=rel)
def test_pure_core_imports_no_io_library(path: Path) -> None:
    bad = io_imports(path)
    assert not bad, "the pure core must stay I/O free:\n" + describe(path, bad)


@pytest.mark.parametrize("path", CORE_FILES, ids=rel)
def test_pure_core_imports_no_io_library_transitively(path: Path) -> None:
    problems = [
        f"{' -> '.join(chain)}\n" + describe(current, bad, indent="    ")
        for current, chain in loaded_with(path)
        if (bad := io_imports(current))
    ]
    assert not problems, "the pure core pulls in I/O through:\n" + "\n".join(problems)


CLOCK_READS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns", "monotonic_ns"}


@pytest.mark.parametrize("path", CORE_FILES, ids=rel)
def test_pure_core_takes_time_as_an_argument(path: Path) -> None:
    # STYLE.md P11: no datetime.now()/time.time() in policies; time is passed in.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [
        f"{rel(path)}:{node.lineno} calls .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_READS
    ]
    assert not bad, "\n".join(bad)


def test_transitive_scan_follows_project_imports() -> None:
    # parser -> hub.clock: the closure must include it, or the transitive test checks nothing.
    closure = {rel(p) for p, _ in loaded_with(ROOT / "channels/webchat/parser.py")}
    assert closure >= {
        "channels/webchat/parser.py", "hub/clock.py", "hub/__init__.py", "channels/__init__.py",
    }


# --- (d) ports, not storage, across the seam (docs/decisions/0023) -------------------------------

# Where the database driver and its query language may appear: the hub's storage adapters, and the
# bot trainers' own stores behind their port (``hub.ports.TrainingDesk``).
STORAGE = ("hub/storage", "bot/training/store.py", "bot/training/turns.py")
DRIVER_LIBS = ("pymongo", "bson", "motor")
# MongoDB operators in string literals ("$in", "$set", "$elemMatch" ...): query syntax.
QUERY_OPERATOR = re.compile(r"^\$[a-zA-Z]+$")


def _in_storage(path: Path) -> bool:
    return any(rel(path) == s or rel(path).startswith(s + "/") for s in STORAGE)


OUTSIDE_STORAGE = [p for p in py_files(*PACKAGES) if not _in_storage(p)]


@pytest.mark.parametrize("path", OUTSIDE_STORAGE, ids=rel)
def test_no_database_driver_outside_storage(path: Path) -> None:
    bad = [i for i in imports_of(path) if any(within(i.module, lib) for lib in DRIVER_LIBS)]
    assert not bad, "only hub/storage (and the bot's training stores) talk to MongoDB:\n" + describe(path, bad)


@pytest.mark.parametrize("path", OUTSIDE_STORAGE, ids=rel)
def test_no_query_syntax_outside_storage(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [f"{rel(path)}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
           if isinstance(node, ast.Constant) and isinstance(node.value, str) and QUERY_OPERATOR.match(node.value)]
    assert not bad, "move the query into a named storage method:\n" + "\n".join(bad)


def test_the_query_scan_sees_operators() -> None:
    tree = ast.parse('q = {"state": {"$in": ["a"]}, "$or": [], "price": "$5"}')
    found = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
             and QUERY_OPERATOR.match(n.value)}
    assert found == {"$in", "$or"}


HUB_SEAM = ["hub/context.py", "hub/registry.py", "hub/ports.py", "hub/inbound.py"]


@pytest.mark.parametrize("path", [ROOT / p for p in HUB_SEAM], ids=rel)
def test_the_seam_names_ports_not_storage_classes(path: Path) -> None:
    bad = [i for i in imports_of(path) if within(i.module, "hub.storage")]
    assert not bad, "the web layers and channels get ports (hub.ports):\n" + describe(path, bad)


# Channels hand messages in through ``hub.ports.Inbox``/``SessionInbox``; the values they keep
# (``ConversationRef``, ``Received``) are in ``hub.domain.received``. No channel imports the
# conversation core (``hub.conversations``), nor the service module it replaced.
@pytest.mark.parametrize("path", py_files("channels"), ids=rel)
def test_channels_use_the_inbound_port_not_the_service(path: Path) -> None:
    imported = imports_of(path)
    bad = [i for i in imported if within(i.module, "hub.service") or within(i.module, "hub.conversations")]
    assert not bad, "channels depend on hub.ports.Inbox, not on the conversation core:\n" + describe(path, bad)
    bad = [i for i in imported if within(i.module, "hub.context") or within(i.module, "hub.storage")]
    assert not bad, "channels get their dependencies from hub.registry.ChannelDeps:\n" + describe(path, bad)


# --- (d2) the conversation core: split by audience, small modules, no channel names ---------------

CONVERSATION_CORE = "hub/conversations"
CORE_MODULE_MAX_LINES = 200
CORE_AUDIENCES = {"customers.py", "agents.py", "bot_side.py", "transitions.py", "core.py"}


def test_the_service_is_split_by_audience() -> None:
    assert not (ROOT / "hub/service.py").exists(), "ConversationService was split into hub/conversations"
    assert {p.name for p in py_files(CONVERSATION_CORE)} >= CORE_AUDIENCES


@pytest.mark.parametrize("path", py_files(CONVERSATION_CORE), ids=rel)
def test_each_module_of_the_conversation_core_is_readable_at_once(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= CORE_MODULE_MAX_LINES, f"{rel(path)} has {lines} lines; split it by what it serves"


@pytest.mark.parametrize("path", py_files(CONVERSATION_CORE), ids=rel)
def test_the_conversation_core_takes_its_ports(path: Path) -> None:
    """The adapters reach the core through hub.ports and the composition root, never by importing it."""
    bad = [i for i in imports_of(path) if top(i.module) in ADAPTER_PACKAGES or within(i.module, "hub.context")]
    assert not bad, describe(path, bad)


ADAPTERS_OF_THE_CORE = [p for p in py_files("console", "bot", "routing")]


@pytest.mark.parametrize("path", ADAPTERS_OF_THE_CORE, ids=rel)
def test_console_bot_and_routing_use_the_ports_of_their_audience(path: Path) -> None:
    bad = [i for i in imports_of(path) if within(i.module, "hub.conversations") or within(i.module, "hub.service")]
    assert not bad, "depend on hub.ports (AgentDesk, BotConversations, ConversationTransitions):\n" + describe(
        path, bad)


# The core decides by capabilities (hub.registry.Capabilities, e.g. ``live``), never by a channel's
# name: no channel name as a string literal in these modules (docstrings aside).
NAME_FREE = [*py_files(CONVERSATION_CORE), ROOT / "hub/wire.py", ROOT / "hub/ports.py", ROOT / "hub/registry.py"]


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


@pytest.mark.parametrize("path", NAME_FREE, ids=rel)
def test_the_core_names_no_channel(path: Path) -> None:
    from hub.domain.ids import CHANNELS

    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    bad = [f"{rel(path)}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
           if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
           and node.value in CHANNELS]
    assert not bad, "ask the channel's capabilities (hub.registry), not its name:\n" + "\n".join(bad)


# --- (e) channels are registry entries; the composition root has no per-channel branches -----------

CHANNEL_PACKAGES = sorted(p.name for p in (ROOT / "channels").iterdir() if (p / "__init__.py").is_file())


@pytest.mark.parametrize("name", CHANNEL_PACKAGES)
def test_every_channel_package_has_a_registry_factory(name: str) -> None:
    source = ROOT / "channels" / name / "channel.py"
    assert source.is_file(), f"channels/{name}/channel.py with channel(settings, deps) -> ChannelEntry | None"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    assert any(isinstance(n, ast.FunctionDef) and n.name == "channel" for n in tree.body)


def test_bootstrap_wires_channels_only_through_their_factories() -> None:
    """hub/bootstrap.py imports each channel package's ``channel`` module and nothing else of it,
    and no statement of it tests a channel's setting (``settings.sms...`` in an ``if``)."""
    path = ROOT / COMPOSITION_ROOT
    channel_imports = [i for i in imports_of(path) if top(i.module) == "channels"]
    allowed = {f"channels.{n}" for n in CHANNEL_PACKAGES} | {f"channels.{n}.channel" for n in CHANNEL_PACKAGES}
    bad = [i for i in channel_imports if i.module not in allowed]
    assert not bad, "bootstrap reaches a channel only through its registry factory:\n" + describe(path, bad)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    tests = [n.test for n in ast.walk(tree) if isinstance(n, (ast.If, ast.IfExp))]
    branches = [f"{rel(path)}:{attr.lineno} tests settings.{attr.attr}" for test in tests for attr in ast.walk(test)
                if isinstance(attr, ast.Attribute) and attr.attr in CHANNEL_PACKAGES
                and isinstance(attr.value, ast.Name) and attr.value.id == "settings"]
    assert not branches, "a channel is switched on by its factory, not by bootstrap:\n" + "\n".join(branches)


# --- (f) the PBX modules stay a small, separate piece (voice/pbx*.py, voice/dialplan.py) -----------

PBX_MODULES = ["voice/pbx.py", "voice/pbx_cli.py", "voice/pbx_config.py", "voice/dialplan.py"]
PBX_MAY_IMPORT_FROM_HUB = {"hub", "hub.errors", "hub.embedded"}


@pytest.mark.parametrize("path", [ROOT / p for p in PBX_MODULES], ids=rel)
def test_the_pbx_modules_import_no_conversation_core_or_storage(path: Path) -> None:
    """Running Asterisk needs no hub settings, storage or conversations: only errors and process helpers."""
    imported = imports_of(path)
    bad = [i for i in imported if top(i.module) == "hub"
           and not any(i.module == m or (m != "hub" and within(i.module, m)) for m in PBX_MAY_IMPORT_FROM_HUB)]
    bad += [i for i in imported if top(i.module) == "voice" and not any(
        within(i.module, m.removesuffix(".py").replace("/", ".")) for m in PBX_MODULES)]
    assert not bad, "the PBX modules import only each other, hub.errors and hub.embedded:\n" + describe(path, bad)
