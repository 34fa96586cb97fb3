"""What AWS calls each function's code can make, read from the code itself (no hand-kept list).

Static and deliberately over-approximating: from a handler module, everything its import graph
loads runs its module-level code, and from there a call graph is followed through lambdas/:

- a name or `module.name` that resolves to a function of lambdas/ reaches that function, whether it
  is called or only passed on (callbacks such as the workflow handed to `sqs_handler`), and a
  class reached that way reaches its dunder methods (construction, iteration, comparison);
- `self.name` reaches the method of that name in the same class (or its lambdas/ bases), and
  `anything.name` reaches every method of that name in lambdas/: the receiver's type is not
  inferred, so the graph holds every method the name could mean; except for the adapters a
  function is handed as fields of `Services` (lambdas/runtime/services.py, `store: Store`, ...),
  whose methods are reached through the field (`services.store.name`, `store.name`): data
  attributes of the same name (`attendee.suppressed`) do not reach `Store.suppressed`;
- an import inside a function (a lazy import) loads its module when that function is reached;
- a function body includes its nested functions and lambdas.

An AWS call is an attribute call whose name is, in snake case, an operation of a service the code
creates a client for (`lambdas.adapters.clients.client("<service>", ...)`, or `.lazy`), on a
receiver that is not a lambdas/ module or class; `get_paginator("<operation>")` counts as that
operation. The service model (botocore) turns the operation into the IAM action
`<signing name>:<Operation>`, which is the action IAM authorises for nearly every operation;
`AUTHORISED_AS` lists the operations that IAM authorises otherwise.

What it cannot see: a client used outside lambdas/, an operation called through `getattr`, or a
call guarded by configuration (it counts the call as made; `CALLED_ONLY_WHEN` in the test names
the one such call and the setting it depends on).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import botocore.session
from botocore import xform_name

from local.moto_iam import AUTHORISED_AS, TRANSACTION_ITEMS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "lambdas"
# What makes a client: now, or on its first call.
CLIENT_FACTORIES = {("lambdas.adapters.clients", "client"), ("lambdas.adapters.clients", "lazy")}
# The dataclass whose annotated fields are the adapters each function is handed.
SERVICES = ("lambdas.runtime.services", "Services")

# The kinds of item each transaction may hold, authorised per item (local/moto_iam.py).
TRANSACTIONS = {
    ("dynamodb", "TransactWriteItems"): ("Update", "ConditionCheck", "Put", "Delete"),
    ("dynamodb", "TransactGetItems"): ("Get",),
}


@dataclass
class Module:
    name: str
    tree: ast.Module
    bindings: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (kind, target)
    functions: dict[str, ast.AST] = field(default_factory=dict)  # top-level def name -> node
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Module]:
    found = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        name = _module_name(path)
        module = Module(name, ast.parse(path.read_text(), filename=str(path)))
        for node in module.tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                module.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                module.classes[node.name] = node
        found[name] = module
    for module in found.values():
        module.bindings = _import_bindings(module.name, _module_imports(module.tree), found)
    return found


def _module_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports that run when the module is loaded (not those inside functions)."""
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If | ast.Try):  # `if TYPE_CHECKING:`, `try: import`
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    yield inner


def _import_bindings(
    module_name: str, imports: Iterable[ast.Import | ast.ImportFrom], known: dict[str, Module]
) -> dict[str, tuple[str, str]]:
    """Each name an import binds that points into lambdas/: ("module", name) or ("symbol", "mod:name")."""
    bindings = {}
    for node in imports:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in known:
                    bindings[alias.asname] = ("module", alias.name)
                elif alias.name.split(".")[0] == PACKAGE:
                    bindings[alias.name.split(".")[0]] = ("module", PACKAGE)
            continue
        base = node.module or ""
        if node.level:
            package = module_name.split(".")[: -node.level]
            base = ".".join([*package, base] if base else package)
        if base.split(".")[0] != PACKAGE:
            continue
        for alias in node.names:
            bound = alias.asname or alias.name
            submodule = f"{base}.{alias.name}"
            bindings[bound] = (
                ("module", submodule) if submodule in known else ("symbol", f"{base}:{alias.name}")
            )
    return bindings


@cache
def operations(service: str) -> dict[str, str]:
    """snake_case method name -> operation name, from the service model boto3 uses."""
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


@cache
def signing_name(service: str) -> str:
    return botocore.session.get_session().get_service_model(service).signing_name


@dataclass
class Reach:
    """What one handler's code can do: the functions reached and the AWS calls found in them."""

    functions: set[str] = field(default_factory=set)  # "module:name" or "module:Class.method"
    services: set[str] = field(default_factory=set)  # boto3 service names it creates clients for
    calls: dict[str, set[str]] = field(default_factory=dict)  # method name -> where it is called
    transaction_items: set[str] = field(default_factory=set)  # "Update", "ConditionCheck", ...

    def operations(self) -> dict[tuple[str, str], set[str]]:
        """(service, operation) -> the functions it is called from."""
        found: dict[tuple[str, str], set[str]] = {}
        for method, where in self.calls.items():
            matches = [
                (service, operations(service)[method])
                for service in sorted(self.services)
                if method in operations(service)
            ]
            if len(matches) > 1:
                raise AssertionError(
                    f"{method}() is an operation of several services: {matches}; {sorted(where)}"
                )
            for match in matches:
                found.setdefault(match, set()).update(where)
        return found

    def iam_actions(self) -> dict[str, set[str]]:
        """IAM action -> the functions whose calls need it."""
        needed: dict[str, set[str]] = {}
        for (service, operation), where in self.operations().items():
            if (service, operation) in TRANSACTIONS:
                kinds = [kind for kind in TRANSACTIONS[service, operation] if kind in self.transaction_items]
                actions = [TRANSACTION_ITEMS[kind] for kind in kinds]
            else:
                action = f"{signing_name(service)}:{operation}"
                actions = AUTHORISED_AS.get(action, (action,))
            for action in actions:
                needed.setdefault(action, set()).update(where)
        return needed


class _Walker:
    def __init__(self) -> None:
        self.modules = modules()
        self.reach = Reach()
        self._loaded: set[str] = set()
        self._queue: list[tuple[str, str]] = []
        self._methods_by_name: dict[str, list[str]] = {}
        self._field_of_class = self._services_fields()
        for module in self.modules.values():
            for class_name, node in module.classes.items():
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        self._methods_by_name.setdefault(item.name, []).append(
                            f"{module.name}:{class_name}.{item.name}"
                        )

    def _services_fields(self) -> dict[str, str]:
        """Each adapter class ("module:Class") -> the `Services` field that holds it."""
        module_name, class_name = SERVICES
        module = self.modules[module_name]
        fields = {}
        for item in module.classes[class_name].body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                annotation = item.annotation
                resolved = (
                    self._resolve(annotation.id, module, {}) if isinstance(annotation, ast.Name) else None
                )
                if resolved and resolved[0] == "class":
                    fields[resolved[1]] = item.target.id
        return fields

    # ------------------------------------------------------------------------------ resolution

    def _symbol(self, target: str, seen: frozenset[str] = frozenset()) -> tuple[str, str] | None:
        """What "module:name" is: ("function", q) / ("class", q) / ("module", m), following re-exports."""
        module_name, _, name = target.partition(":")
        module = self.modules.get(module_name)
        if module is None or target in seen:
            return None
        if name in module.functions:
            return ("function", target)
        if name in module.classes:
            return ("class", target)
        bound = module.bindings.get(name)
        if bound is None:
            return None
        kind, inner = bound
        return ("module", inner) if kind == "module" else self._symbol(inner, seen | {target})

    def _resolve(
        self, name: str, module: Module, local: dict[str, tuple[str, str]]
    ) -> tuple[str, str] | None:
        bound = local.get(name) or module.bindings.get(name)
        if bound is not None:
            kind, target = bound
            return ("module", target) if kind == "module" else self._symbol(target)
        if name in module.functions:
            return ("function", f"{module.name}:{name}")
        if name in module.classes:
            return ("class", f"{module.name}:{name}")
        return None

    def _class_methods(self, qualified_class: str, name: str | None) -> list[str]:
        """Methods of the class (and its lambdas/ bases) called `name`, or its dunders if None."""
        module_name, _, class_name = qualified_class.partition(":")
        module = self.modules[module_name]
        node = module.classes[class_name]
        found = [
            f"{qualified_class}.{item.name}"
            for item in node.body
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            and (item.name == name if name else item.name.startswith("__") and item.name.endswith("__"))
        ]
        for base in node.bases:
            resolved = self._resolve(base.id, module, {}) if isinstance(base, ast.Name) else None
            if resolved and resolved[0] == "class":
                found += self._class_methods(resolved[1], name)
        return found

    # -------------------------------------------------------------------------------- the walk

    def _enqueue(self, kind: str, target: str) -> None:
        if kind == "module":
            if target not in self._loaded and target in self.modules:
                self._loaded.add(target)
                self._queue.append(("module", target))
                parent = target.rpartition(".")[0]  # importing a.b.c runs a/__init__ and a/b/__init__
                if parent:
                    self._enqueue("module", parent)
        elif kind == "function":
            if target not in self.reach.functions:
                self.reach.functions.add(target)
                self._queue.append(("function", target))
        elif kind == "class":
            self._enqueue("module", target.partition(":")[0])
            for method in self._class_methods(target, None):
                self._enqueue("function", method)

    def run(self, handler_module: str) -> Reach:
        self._enqueue("module", handler_module)
        while self._queue:
            kind, target = self._queue.pop()
            if kind == "module":
                module = self.modules[target]
                for node in _module_imports(module.tree):
                    self._load_imported(module.name, node)
                self._scan(self._module_level(module.tree), module, None, {})
            else:
                self._scan_function(target)
        return self.reach

    def _load_imported(
        self, module_name: str, node: ast.Import | ast.ImportFrom
    ) -> dict[str, tuple[str, str]]:
        bindings = _import_bindings(module_name, [node], self.modules)
        for kind, target in bindings.values():
            self._enqueue("module", target if kind == "module" else target.partition(":")[0])
        if isinstance(node, ast.Import):
            for alias in node.names:
                self._enqueue("module", alias.name)
        return bindings

    @staticmethod
    def _module_level(tree: ast.Module) -> list[ast.AST]:
        """What runs when the module loads: statements, decorators, defaults, class bodies."""
        run: list[ast.AST] = []
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                run += [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]
            elif isinstance(node, ast.ClassDef):
                run += [*node.decorator_list, *node.bases]
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        run += item.decorator_list
                    else:
                        run.append(item)
            elif not isinstance(node, ast.Import | ast.ImportFrom):
                run.append(node)
        return [node for node in run if node is not None]

    def _scan_function(self, qualified: str) -> None:
        module_name, _, path = qualified.partition(":")
        module = self.modules[module_name]
        class_name, _, function_name = path.rpartition(".")
        if class_name:
            node = next(
                item
                for item in module.classes[class_name].body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == function_name
            )
        else:
            node = module.functions[function_name]
        local: dict[str, tuple[str, str]] = {}
        for inner in ast.walk(node):  # lazy imports load their module when the function runs
            if isinstance(inner, ast.Import | ast.ImportFrom):
                local |= self._load_imported(module.name, inner)
        self._scan(
            [node], module, f"{module_name}:{class_name}" if class_name else None, local, where=qualified
        )

    def _scan(
        self,
        nodes: list[ast.AST],
        module: Module,
        class_context: str | None,
        local: dict[str, tuple[str, str]],
        where: str | None = None,
    ) -> None:
        where = where or f"{module.name} (module level)"
        for root in nodes:
            for node in ast.walk(root):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    if resolved := self._resolve(node.id, module, local):
                        self._enqueue(*resolved)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                    self._attribute(node, module, class_context, local)
                elif isinstance(node, ast.Dict):
                    for key in node.keys:
                        if isinstance(key, ast.Constant) and key.value in TRANSACTION_ITEMS:
                            self.reach.transaction_items.add(key.value)
                if isinstance(node, ast.Call):
                    self._call(node, module, local, where)

    def _attribute(self, node: ast.Attribute, module: Module, class_context, local) -> None:
        value = node.value
        if isinstance(value, ast.Name):
            resolved = self._resolve(value.id, module, local)
            if resolved and resolved[0] == "module":
                if inner := self._symbol(f"{resolved[1]}:{node.attr}"):
                    self._enqueue(*inner)
                elif f"{resolved[1]}.{node.attr}" in self.modules:
                    self._enqueue("module", f"{resolved[1]}.{node.attr}")
                return
            if resolved and resolved[0] == "class":
                for method in self._class_methods(resolved[1], node.attr):
                    self._enqueue("function", method)
                return
            if value.id in ("self", "cls") and class_context:
                for method in self._class_methods(class_context, node.attr):
                    self._enqueue("function", method)
                return
        receiver = value.attr if isinstance(value, ast.Attribute) else getattr(value, "id", None)
        for method in self._methods_by_name.get(node.attr, ()):
            field_name = self._field_of_class.get(method.rpartition(".")[0])
            if field_name is None or field_name == receiver:
                self._enqueue("function", method)

    def _receiver_is_ours(self, value: ast.AST, module: Module, local) -> bool:
        """`self.x()`, `module.x()`, `Class.x()`: a call of ours, never a client's."""
        if isinstance(value, ast.Name) and value.id in ("self", "cls"):
            return True
        return isinstance(value, ast.Name) and self._resolve(value.id, module, local) is not None

    def _call(self, node: ast.Call, module: Module, local, where: str) -> None:
        func = node.func
        target = None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            resolved = self._resolve(func.value.id, module, local)
            if resolved and resolved[0] == "module":
                target = (resolved[1], func.attr)
        elif isinstance(func, ast.Name) and (resolved := self._resolve(func.id, module, local)):
            module_name, _, name = resolved[1].partition(":")
            target = (module_name, name)
        if target in CLIENT_FACTORIES and node.args and isinstance(node.args[0], ast.Constant):
            self.reach.services.add(node.args[0].value)
        if not isinstance(func, ast.Attribute) or self._receiver_is_ours(func.value, module, local):
            return
        method = func.attr
        if method == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
            method = node.args[0].value
        # A name that is also one of our methods (Expression.query) still counts: the receiver's type
        # is unknown, so it may be a client's call as well (over-approximation, see the docstring).
        self.reach.calls.setdefault(method, set()).add(where)


def reach(handler_module: str) -> Reach:
    """Everything the code loaded by `handler_module` can reach (see the module docstring)."""
    walked = _Walker().run(handler_module)
    # Only snake_case names of the services it creates are AWS calls; drop every other method call.
    walked.calls = {
        method: where
        for method, where in walked.calls.items()
        if any(method in operations(service) for service in walked.services)
    }
    return walked
