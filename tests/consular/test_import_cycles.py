"""No app's modules import each other in a circle: a newcomer can read any app from its
adapters down to its models. import-linter checks the order between apps (and inside
notifications); this checks every app."""

import grimp
import pytest

APPS = ["core", "accounts", "regions", "registrations", "advisories", "notifications", "cases"]


def _cycle_in(graph: grimp.ImportGraph, app: str) -> list[str] | None:
    modules = {m for m in graph.modules if m == app or m.startswith(f"{app}.")}
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module) & modules):
            if state.get(imported) == "open":
                return [*path[path.index(imported) :], imported]
            if imported not in state and (cycle := visit(imported, path)):
                return cycle
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(modules):
        if module not in state and (cycle := visit(module, [])):
            return cycle
    return None


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*APPS)


@pytest.mark.parametrize("app", APPS)
def test_no_app_imports_itself_in_a_circle(graph, app):
    assert _cycle_in(graph, app) is None


def test_a_circle_is_found():
    graph = grimp.ImportGraph()
    for module in ("app", "app.services", "app.tasks"):
        graph.add_module(module)
    graph.add_import(importer="app.services", imported="app.tasks")
    graph.add_import(importer="app.tasks", imported="app.services")

    assert _cycle_in(graph, "app") == ["app.services", "app.tasks", "app.services"]
