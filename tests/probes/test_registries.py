"""Both registries resolve: every probe target names a probe function and every parse kind a
parse function; each is declared beside its code and found by its folder (issue 13)."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from envstamp.parsers.kinds import KINDS, kinds_declared, parser_for
from envstamp.parsers.kinds import discover as discover_kinds
from envstamp.probes.registry import PROBES, load, probe_modules, specs_declared
from envstamp.probes.registry import discover as discover_probes


@pytest.mark.parametrize("spec", PROBES, ids=lambda spec: spec.name)
def test_every_probe_target_resolves_to_a_probe_function(spec: object) -> None:
    target = spec.target  # type: ignore[attr-defined]
    module_name, _, function = target.partition(":")
    assert module_name.startswith("envstamp.probes.") and function
    probe = load(target)
    assert callable(probe) and list(inspect.signature(probe).parameters) == ["ctx"]


def test_probe_names_are_unique() -> None:
    names = [spec.name for spec in PROBES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_parse_kind_resolves_to_a_function_of_one_text(kind: str) -> None:
    target, what = KINDS[kind]
    module_name, _, function = target.partition(":")
    assert importlib.import_module(module_name) and function and what
    parse = parser_for(kind)
    assert callable(parse) and len(inspect.signature(parse).parameters) == 1


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_parse_kind_names_the_module_that_defines_it(kind: str) -> None:
    module_name = KINDS[kind][0].partition(":")[0]
    assert parser_for(kind).__module__ == module_name


# ------------------------------------------------------------- declarations beside the code


def _probe_module_names() -> list[str]:
    return [module for module, _ in probe_modules()]


@pytest.mark.parametrize("module_name", _probe_module_names())
def test_each_probe_modules_declaration_as_read_is_the_modules_own(module_name: str) -> None:
    # The registry reads PROBES from the file's text; importing the module must give the same.
    module = importlib.import_module(module_name)
    read = [spec for spec in PROBES if spec.target.startswith(module_name + ":")]
    own = specs_declared(module_name, getattr(module, "PROBES", ()))
    assert [(s.name, s.target, s.order, s.systems, s.volatile, s.waits, s.outlives_deadline)
            for s in read] == [
        (s.name, s.target, s.order, s.systems, s.volatile, s.waits, s.outlives_deadline)
        for s in sorted(own, key=lambda spec: spec.order)
    ]


@pytest.mark.parametrize("module_name", _probe_module_names())
def test_a_module_with_a_probe_function_declares_it(module_name: str) -> None:
    module = importlib.import_module(module_name)
    if callable(getattr(module, "probe", None)):
        assert f"{module_name}:probe" in {spec.target for spec in PROBES}


def test_probes_keep_their_order_and_orders_are_unique() -> None:
    # Sections merge and records list in this order (the first value of a field wins).
    assert [spec.name for spec in PROBES] == [
        "host", "os", "cpu", "memory", "python", "env", "power",
        "gpu_nvidia", "gpu_amd", "gpu_apple", "gpu_windows", "gpu_intel", "runtimes",
        "llamacpp", "ollama", "lmstudio", "jan", "engines", *_LATER_FRONTENDS, "models",
        "state", "gpu_nvidia_state",
    ]
    orders = [spec.order for spec in PROBES]
    assert len(orders) == len(set(orders)) and orders == sorted(orders)
    assert [s.name for s in PROBES if s.volatile] == ["state", "gpu_nvidia_state"]


_LATER_FRONTENDS: tuple[str, ...] = tuple(
    spec.name for spec in PROBES if 340 < spec.order < 390
)


def _write(folder: Path, text: str) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text(text, encoding="utf-8")


def test_a_new_probe_module_is_found_by_its_folder_alone(tmp_path: Path) -> None:
    _write(tmp_path / "llm" / "__init__.py", "")
    _write(tmp_path / "llm" / "newtool.py",
           'def probe(ctx): ...\n\n\nPROBES = ({"name": "newtool", "order": 20},)\n')
    _write(tmp_path / "llm" / "helper.py", "X = 1\n")  # no declaration: not a probe
    _write(tmp_path / "gpu" / "__init__.py", "")
    _write(tmp_path / "gpu" / "card.py", 'PROBES = (\n    {"name": "card", "order": 10,\n'
           '     "systems": ["Linux"], "waits": True},\n)\n')
    _write(tmp_path / "notes" / "ignored.py", 'PROBES = ({"name": "no", "order": 1},)\n')
    specs = discover_probes(tmp_path, "pkg")
    assert [(s.name, s.target, s.systems, s.waits) for s in specs] == [
        ("card", "pkg.gpu.card:probe", ("Linux",), True),
        ("newtool", "pkg.llm.newtool:probe", None, False),
    ]


@pytest.mark.parametrize("declared", [
    {"name": "x"}, ("x",), ({"order": 1},), ({"name": 3},),
])
def test_a_malformed_probe_declaration_is_named(declared: object) -> None:
    with pytest.raises(ValueError, match=r"pkg\.mod\.PROBES"):
        specs_declared("pkg.mod", declared)


def test_a_new_parse_kind_is_found_in_its_module_alone(tmp_path: Path) -> None:
    _write(tmp_path / "tool.py",
           'KINDS = {\n    "tool-version": ("parse_kind", "tool --version"),\n}\n')
    _write(tmp_path / "other.py", "def f(): ...\n")
    assert discover_kinds(tmp_path, "pkg") == {
        "tool-version": ("pkg.tool:parse_kind", "tool --version")
    }


def test_a_kind_declared_twice_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "a.py", 'KINDS = {"k": ("f", "x")}\n')
    _write(tmp_path / "b.py", 'KINDS = {"k": ("g", "x")}\n')
    with pytest.raises(ValueError, match=r"'k' is declared by pkg\.a:f and pkg\.b:g"):
        discover_kinds(tmp_path, "pkg")


@pytest.mark.parametrize("declared", [["k"], {"k": "f"}, {"k": ("f",)}, {"k": ("f", "")}])
def test_a_malformed_kind_declaration_is_named(declared: object) -> None:
    with pytest.raises(ValueError, match=r"pkg\.mod\.KINDS"):
        kinds_declared("pkg.mod", declared)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_as_read_is_its_modules_own_declaration(kind: str) -> None:
    module_name, _, function = KINDS[kind][0].partition(":")
    module = importlib.import_module(module_name)
    assert module.KINDS[kind] == (function, KINDS[kind][1])


def test_every_kind_function_of_a_parser_module_is_declared() -> None:
    # A parse function named *_kind that no KINDS names would be a kind nobody can reach.
    import envstamp.parsers as package

    declared = {entry[0] for entry in KINDS.values()}
    for path in sorted(Path(package.__path__[0]).glob("*.py")):
        module_name = f"envstamp.parsers.{path.stem}"
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            is_kind = name.startswith("parse_") and name.endswith("_kind") and callable(value)
            if is_kind and value.__module__ == module_name:
                assert f"{module_name}:{name}" in declared


def test_listing_probes_and_kinds_imports_none_of_them() -> None:
    code = (
        "import sys\n"
        "from envstamp.probes.registry import PROBES\n"
        "from envstamp.parsers.kinds import KINDS\n"
        "assert len(PROBES) > 15 and len(KINDS) > 30\n"
        "loaded = [m for m in sys.modules if m.startswith(('envstamp.probes.', "
        "'envstamp.parsers.'))]\n"
        "print(sorted(loaded))\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert ran.stdout.strip() == repr(sorted([
        "envstamp.parsers.declared", "envstamp.parsers.kinds", "envstamp.probes.registry",
    ]))
