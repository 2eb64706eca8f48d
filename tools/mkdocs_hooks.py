"""Hooks of the documentation site (mkdocs.yml ``hooks:``), both for ``mkdocs build --strict``.

- ``on_page_markdown``: a guide page links to repository files outside ``docs/``
  (``../tools/bench/README.md``) so that it reads well on GitHub; on the site such a link would
  be broken, so it becomes a link to the file on GitHub, if the file exists. A link to a file
  that does not exist is left alone, for mkdocs to report (strict: the build fails).
- ``on_post_build``: the API reference lists every name of every ``__all__`` of every
  distribution; a name the reference does not render fails the build, naming it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

REPO = Path(__file__).resolve().parents[1]
BLOB = "https://github.com/event-sourcery/event-sourcery/blob/main/"
_OUTSIDE = re.compile(r"\]\((?P<target>\.\./[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Point links that leave ``docs/`` at the file on GitHub."""
    source = Path(page.file.abs_src_path).parent
    docs = Path(config["docs_dir"]).resolve()

    def replace(match: re.Match[str]) -> str:
        target = (source / match["target"]).resolve()
        if not target.exists() or REPO not in target.parents or docs in target.parents:
            return match[0]
        return f"]({BLOB}{target.relative_to(REPO).as_posix()}{match['anchor'] or ''})"

    return _OUTSIDE.sub(replace, markdown)


def public_modules() -> dict[str, list[tuple[str, Path]]]:
    """``{distribution: [(module name, file)]}``: every module with no ``_`` in its path."""
    found: dict[str, list[tuple[str, Path]]] = {}
    for path in sorted(REPO.glob("packages/*/src/**/*.py")):
        distribution = path.relative_to(REPO / "packages").parts[0]
        source = REPO / "packages" / distribution / "src"
        parts = list(path.relative_to(source).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if any(part.startswith("_") or part == "migrations" for part in parts):
            continue
        found.setdefault(distribution, []).append((".".join(parts), path))
    return found


def exported_names() -> dict[str, list[str]]:
    """``{distribution: ["module.Name", ...]}`` from the ``__all__`` of every public module."""
    found: dict[str, list[str]] = {}
    for distribution, modules in public_modules().items():
        for module, path in modules:
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if (
                    isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
                    and isinstance(node.value, ast.List)
                ):
                    names = [ast.literal_eval(element) for element in node.value.elts]
                    found.setdefault(distribution, []).extend(f"{module}.{n}" for n in names)
    return found


def on_post_build(config: Any) -> None:
    """Fail the build if the reference of a distribution misses a name of its ``__all__``."""
    site = Path(config["site_dir"])
    missing = []
    for distribution, names in exported_names().items():
        page = site / "reference" / distribution / "index.html"
        html = page.read_text(encoding="utf-8") if page.is_file() else ""
        missing += [f"{distribution}: {name}" for name in names if f'id="{name}"' not in html]
        modules = [module for module, _ in public_modules()[distribution]]
        missing += [f"{distribution}: module {m}" for m in modules if f'id="{m}"' not in html]
    if missing:
        raise PluginError(
            "the API reference (docs/reference/) does not render these exported names:\n  "
            + "\n  ".join(missing)
        )
