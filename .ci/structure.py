#!/usr/bin/env python3
"""Checks the workspace's shape, so that it cannot drift from what docs/architecture.md
promises:

- keypair-wire (the sans-IO protocol) depends on no runtime, server or metrics crate;
- no crate depends on keypaird (the binary is CLI parsing and wiring only);
- keypair-http has at most 1,500 lines of code outside its tests, keypaird/src at most
  1,200 lines;
- no function in keypair-wire, keypair-http or keypaird is over 60 lines;
- no crate of the workspace has an import circle between its files: for every `use` of
  `crate::…`, `super::…` or `self::…` (and every path written out in the code), the file
  that defines the module it names, followed through `pub use` re-exports.

Prints what it measured; exits 1 naming each breach. Usage: .ci/structure.py
"""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NO_RUNTIME_IN = "keypair-wire"
FORBIDDEN_UNDER_WIRE = re.compile(r"^(tokio|tokio-\S+|hyper|hyper-\S+|axum|axum-\S+|metrics|metrics-\S+|tower|tower-\S+)$")
LINE_BUDGETS = {"keypair-http": 1500, "keypaird": 1200}
SHORT_FUNCTIONS_IN = ["keypair-wire", "keypair-http", "keypaird"]
MAX_FUNCTION_LINES = 60


def strip_code(text):
    """The text with comments, string and char literals blanked (newlines kept), so
    braces and paths are only the code's."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = '"' + hashes
            j = text.find(end, i + 2 + len(hashes))
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'" and re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 12]):
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 12])
            out.append(" " * len(m.group(0)))
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def without_tests(code):
    """The code with every `#[cfg(test)]` item (a test module) blanked."""
    lines = code.split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "#[cfg(test)]":
            depth, j, opened = 0, i + 1, False
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                opened = opened or "{" in lines[j]
                if opened and depth <= 0 or (not opened and lines[j].rstrip().endswith(";")):
                    break
                j += 1
            out.extend([""] * (j - i + 1))
            i = j + 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def rust_files(crate, folder="src"):
    return sorted((ROOT / "crates" / crate / folder).rglob("*.rs"))


def long_functions(path):
    code = without_tests(strip_code(path.read_text())).split("\n")
    found = []
    for i, line in enumerate(code):
        m = re.match(r"\s*(pub(\([^)]*\))?\s+)?((async|const|unsafe|extern \S+)\s+)*fn\s+(\w+)", line)
        if not m:
            continue
        depth, start, j = 0, None, i
        while j < len(code):
            for ch in code[j]:
                if ch == "{":
                    depth += 1
                    start = j if start is None else start
                elif ch == "}":
                    depth -= 1
                elif ch == ";" and start is None and depth == 0:
                    break
            else:
                if start is not None and depth == 0:
                    break
                j += 1
                continue
            break
        if start is not None and j - i + 1 > MAX_FUNCTION_LINES:
            found.append((m.group(5), i + 1, j - i + 1))
    return found


def module_files(crate):
    """Module path (tuple) -> file, for a crate's src/ tree."""
    src = ROOT / "crates" / crate / "src"
    mods = {}
    for f in src.rglob("*.rs"):
        rel = f.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] in ("lib", "main", "mod"):
            parts = parts[:-1]
        mods[tuple(parts)] = f
    return mods


def reexports(code, here, resolve):
    """`pub use a::b::Name;` and `pub use a::{X, Y};` of a file: name -> module path."""
    found = {}
    for m in re.finditer(r"pub(\([^)]*\))?\s+use\s+([^;]+);", code):
        body = re.sub(r"\s+", "", m.group(2))
        base, _, group = body.partition("{")
        names = group.rstrip("}").split(",") if group else [base.rsplit("::", 1)[-1]]
        base = base.rstrip(":") if group else base.rsplit("::", 1)[0] if "::" in base else ""
        for name in filter(None, names):
            name = name.split("as")[0].split("::")[-1]
            target = resolve(here, base.split("::") if base else [])
            if target is not None:
                found[name] = target
    return found


def import_graph(crate):
    mods = module_files(crate)
    files = {f: m for m, f in mods.items()}
    codes = {f: strip_code(f.read_text()) for f in files}

    def resolve(here, segments):
        """The deepest module a path from module `here` names (None: outside the crate)."""
        if not segments:
            return None
        if segments[0] == "crate":
            path, rest = (), segments[1:]
        elif segments[0] in ("super", "self"):
            path = list(here)
            while segments and segments[0] in ("super", "self"):
                if segments[0] == "super" and path:
                    path.pop()
                segments = segments[1:]
            path, rest = tuple(path), segments
        else:
            return None
        for seg in rest:
            if path + (seg,) in mods:
                path = path + (seg,)
            else:
                break
        return path

    exported = {m: reexports(codes[f], m, resolve) for m, f in mods.items()}
    edges = {f: set() for f in files}
    for f, here in files.items():
        for m in re.finditer(r"\b((?:crate|super|self)(?:::\w+)+(?:::\{[^}]*\})?)", codes[f]):
            text = re.sub(r"\s+", "", m.group(1))
            base, _, group = text.partition("{")
            segments = [s for s in base.split("::") if s]
            target = resolve(here, segments)
            if target is None:
                continue
            names = [g.split("as")[0] for g in group.rstrip("}").split(",")] if group else [segments[-1]]
            for name in names:
                dest = exported.get(target, {}).get(name.split("::")[0], target)
                if mods.get(dest) and mods[dest] != f:
                    edges[f].add(mods[dest])
    return edges


def circles(edges):
    """Every strongly connected set of more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(group)

    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index:
            visit(v)
    return out


def main():
    problems = []
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                                     cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    crates = sorted(p["name"] for p in meta["packages"])
    tree = subprocess.run(["cargo", "tree", "-p", NO_RUNTIME_IN, "-e", "normal", "--prefix", "none", "--format", "{p}"],
                          cwd=ROOT, capture_output=True, text=True, check=True).stdout
    names = sorted({line.split()[0] for line in tree.splitlines() if line.strip()})
    banned = [n for n in names if FORBIDDEN_UNDER_WIRE.match(n)]
    print(f"{NO_RUNTIME_IN}: {len(names)} crates in its normal dependency tree; tokio, hyper, axum, tower, metrics among them: {banned or 'none'}")
    problems += [f"{NO_RUNTIME_IN} depends on {n}" for n in banned]
    dependents = [p["name"] for p in meta["packages"] for d in p["dependencies"] if d["name"] == "keypaird" and p["name"] != "keypaird"]
    print(f"crates depending on keypaird: {dependents or 'none'}")
    problems += [f"{d} depends on keypaird" for d in dependents]
    for crate, budget in LINE_BUDGETS.items():
        files = rust_files(crate)
        total = sum(f.read_text().count("\n") for f in files)
        # Lines before the first test module, and between test modules: blank the tests,
        # drop the trailing blank lines they leave.
        counted = sum(len(without_tests(f.read_text()).rstrip().split("\n")) for f in files)
        print(f"{crate}/src: {total} lines, {counted} outside test modules (budget {budget})")
        if counted > budget:
            problems.append(f"{crate}/src has {counted} lines outside its tests, over {budget}")
    for crate in SHORT_FUNCTIONS_IN:
        long = [(f, name, line, n) for f in rust_files(crate) for name, line, n in long_functions(f)]
        print(f"{crate}: functions over {MAX_FUNCTION_LINES} lines: {len(long)}")
        problems += [f"{f.relative_to(ROOT)}:{line}: fn {name} has {n} lines" for f, name, line, n in long]
    found = 0
    for crate in crates:
        if not (ROOT / "crates" / crate / "src").exists():
            continue
        for group in circles(import_graph(crate)):
            found += 1
            problems.append(f"import circle in {crate}: " + " -> ".join(str(f.relative_to(ROOT)) for f in group))
    print(f"import circles between the files of {len(crates)} crates: {found}")
    for p in problems:
        print(f"  FAIL {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
