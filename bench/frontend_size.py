"""Initial JavaScript of the web inbox, gzipped: target <= 250 KB.

Builds nothing: reads the production build in `frontend/dist/` (`make frontend` writes it).

    python -m bench.frontend_size [--dist frontend/dist]

Initial JS = the module scripts `index.html` loads (`<script type="module" src>`), the
`<link rel="modulepreload">` files, and everything those import statically (`import … from "./x.js"`,
`import "./x.js"`, `export … from "./x.js"`), transitively. Every other `.js` file in the build is a
lazy chunk (reached only through `import()`), listed separately. Each file is gzipped at level 9
in memory; KB = 1,000 bytes (as Vite and browsers' devtools report). CSS is listed for information.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, BenchError, machine_info, table, write_json  # noqa: E402

TARGET_KB = 250.0
DIST = ROOT / "frontend" / "dist"
# Static import / re-export specifiers in (minified) ES modules; `import(` and `import.meta` never match.
STATIC_IMPORT = re.compile(
    r"""(?:\bimport\s*(?:[\w$]+\s*,?\s*)?(?:\{[^}]*\}|\*\s*as\s+[\w$]+)?\s*(?:from\s*)?"""
    r"""|\bexport\s*(?:\*(?:\s*as\s+[\w$]+)?|\{[^}]*\})\s*from\s*)(["'`])([^"'`\s]+\.m?js)\1"""
)


class _Entries(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.preloads: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("type") == "module" and a.get("src"):
            self.scripts.append(a["src"])
        elif tag == "link" and "modulepreload" in (a.get("rel") or "").split() and a.get("href"):
            self.preloads.append(a["href"])
        elif tag == "link" and "stylesheet" in (a.get("rel") or "").split() and a.get("href"):
            self.styles.append(a["href"])


def resolve(dist: Path, base: str, ref: str) -> Path | None:
    """A URL from index.html (base "/") or from a module (base: its own URL) → a file in dist, or None."""
    if re.match(r"^[a-z][a-z0-9+.-]*:|^//", ref, re.IGNORECASE):
        return None  # another origin: not part of this build
    ref = ref.split("?", 1)[0].split("#", 1)[0]
    url = PurePosixPath(ref) if ref.startswith("/") else PurePosixPath(base).parent / ref
    parts: list[str] = []
    for part in url.parts[1:] if url.is_absolute() else url.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    path = dist.joinpath(*parts)
    return path if path.is_file() else None


def url_of(dist: Path, path: Path) -> str:
    return "/" + path.relative_to(dist).as_posix()


def static_closure(dist: Path, entries: list[Path]) -> list[Path]:
    seen: list[Path] = []
    todo = list(entries)
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.append(path)
        source = path.read_text(encoding="utf-8", errors="replace")
        for match in STATIC_IMPORT.finditer(source):
            target = resolve(dist, url_of(dist, path), match.group(2))
            if target is not None and target not in seen:
                todo.append(target)
    return seen


def sizes(dist: Path, path: Path) -> dict:
    raw = path.read_bytes()
    gz = len(gzip.compress(raw, compresslevel=9, mtime=0))
    return {"file": path.relative_to(dist).as_posix(), "raw_bytes": len(raw), "gzip_bytes": gz,
            "raw_kb": round(len(raw) / 1000, 1), "gzip_kb": round(gz / 1000, 1)}


def stale_sources(dist_index: Path) -> list[str]:
    """Frontend sources changed after the build: the figure may not describe the current code."""
    frontend = ROOT / "frontend"
    built = dist_index.stat().st_mtime
    candidates = [p for p in (frontend / "src").rglob("*") if p.is_file()] if (frontend / "src").is_dir() else []
    candidates += [frontend / n for n in ("index.html", "package.json", "package-lock.json", "vite.config.ts")]
    return sorted(str(p.relative_to(ROOT)) for p in candidates if p.is_file() and p.stat().st_mtime > built)


def run(args) -> dict:
    dist = Path(args.dist).resolve()
    index = dist / "index.html"
    if not index.is_file():
        raise BenchError(f"{index} is missing: run `make frontend` first (this benchmark builds nothing)")
    parser = _Entries()
    parser.feed(index.read_text(encoding="utf-8"))
    entries, unresolved = [], []
    for ref in parser.scripts + parser.preloads:
        path = resolve(dist, "/", ref)
        (entries.append(path) if path is not None else unresolved.append(ref))
    if not parser.scripts:
        raise BenchError(f"{index} loads no <script type=\"module\" src=…>: is this a Vite build?")
    if unresolved:
        raise BenchError(f"{index} references files that are not in {dist}: {unresolved} (a broken build?)")
    initial = static_closure(dist, entries)
    lazy = sorted(p for p in dist.rglob("*.js") if p not in initial)
    css = [p for p in (resolve(dist, "/", ref) for ref in parser.styles) if p is not None]
    initial_rows = [sizes(dist, p) for p in initial]
    lazy_rows = [sizes(dist, p) for p in lazy]
    total_gzip = round(sum(r["gzip_bytes"] for r in initial_rows) / 1000, 1)
    total_raw = round(sum(r["raw_bytes"] for r in initial_rows) / 1000, 1)
    stale = stale_sources(index)
    return {
        "benchmark": "frontend_size",
        "dist": str(dist.relative_to(ROOT)) if dist.is_relative_to(ROOT) else str(dist),
        "built_at": datetime.fromtimestamp(index.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "initial": initial_rows,
        "lazy": lazy_rows,
        "css": [sizes(dist, p) for p in css],
        "initial_raw_kb": total_raw,
        "initial_gzip_kb": total_gzip,
        "lazy_gzip_kb": round(sum(r["gzip_bytes"] for r in lazy_rows) / 1000, 1),
        "stale_sources": stale,
        "target": f"initial JS <= {TARGET_KB:g} KB gzip",
        "meets_target": total_gzip <= TARGET_KB,
        "problems": [],
        "machine": machine_info(),
    }


def report(result: dict) -> str:
    def rows(items, kind):
        return [[kind, r["file"], r["raw_kb"], r["gzip_kb"]] for r in items]

    body = rows(result["initial"], "initial JS") + [
        ["initial JS", "TOTAL", result["initial_raw_kb"], result["initial_gzip_kb"]]
    ] + rows(result["lazy"], "lazy chunk") + rows(result["css"], "CSS (initial)")
    lines = [
        f"frontend_size: {result['dist']}/index.html built {result['built_at']}; gzip level 9, KB = 1000 bytes",
        table(["kind", "file", "raw KB", "gzip KB"], body),
        "",
        f"initial JS {result['initial_gzip_kb']} KB gzip ({result['initial_raw_kb']} KB raw) in "
        f"{len(result['initial'])} file(s); {len(result['lazy'])} lazy chunk(s), {result['lazy_gzip_kb']} KB gzip; "
        f"target {result['target']}: {'MET' if result['meets_target'] else 'NOT MET'}",
    ]
    if result["stale_sources"]:
        shown = ", ".join(result["stale_sources"][:5]) + (" …" if len(result["stale_sources"]) > 5 else "")
        lines.append(f"NOTE: {len(result['stale_sources'])} frontend source file(s) changed after this build "
                     f"({shown}); run `make frontend` for a figure of the current code")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dist", default=str(DIST), help="the Vite build directory (default frontend/dist)")
    parser.add_argument("--quick", action="store_true", help="accepted for run_all.py; changes nothing")
    parser.add_argument("--json", help="also write the result as JSON to this file")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = run(args)
    except BenchError as exc:
        print(f"frontend_size benchmark FAILED: {exc}", file=sys.stderr)
        return 2
    print(report(result))
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
