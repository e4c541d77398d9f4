#!/usr/bin/env python3
"""Runs every shell, TOML, Python, JavaScript and Rust block of README.md and docs/*.md
exactly as written, and fails if one fails.

Each block runs in a fresh temporary directory that holds the clone as `keypair/`, the
way a reader has it at hand (README blocks that run at the clone's root say `cwd:
keypair`). That clone is one copy of this checkout's tracked files, made afresh for the
run under target/docs-clone (its own target/ is kept, as a reader's clone keeps its
builds), so nothing a block does touches this checkout. Blocks are run in document order,
README.md first, so its install block puts `keypaird` on the PATH before any other block
needs it.

What a block does by default, by its language:
- sh, bash, shell: `bash -euo pipefail` on the block;
- python: `python3` on the block (a docs virtualenv comes first on the PATH); a block whose
  first line is `# NAME.py — run: COMMAND` is written to NAME.py and COMMAND is run;
- js, javascript: `node` on the block, or the same `// NAME.js — run: COMMAND` form;
- toml: a keypaird configuration, written to keypaird.toml and checked with
  `keypaird serve --check --config keypaird.toml`;
- rust: nothing by default; it needs `file:` and `run:` (or `skip:`).

A block that should run otherwise says so in an HTML comment on the line before it,
`<!-- docs: DIRECTIVE; DIRECTIVE -->`, visible to anyone editing the document:
- `skip: REASON` — deliberately not run; the reason is printed in the report;
- `continues` — runs in the directory of the block before it in the same document, with
  the servers that block's group started still running;
- `server` — started in the background; ready once it prints `listening on`; stopped
  (SIGTERM) when its group ends;
- `cwd: DIR` — runs in DIR, relative to the block's directory;
- `file: PATH` / `append: PATH` — the block's text is written to (appended to) PATH;
- `run: COMMAND` — the shell command to run after writing the file;
- `timeout: SECONDS` — instead of the default 900.

Blocks in other languages (text, console, json, …) are output and data, and are not
counted. Usage: .ci/docs.py [FILE.md …]   (default: README.md docs/*.md)
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNABLE = {"sh": "sh", "bash": "sh", "shell": "sh", "toml": "toml", "python": "python",
            "py": "python", "js": "js", "javascript": "js", "rust": "rust"}
DIRECTIVES = {"skip", "continues", "server", "cwd", "file", "append", "run", "timeout"}
FILE_HEADER = re.compile(r"^(?:#|//)\s*(\S+\.(?:py|js))\s+—\s+run:\s+(.+)$")
DEFAULT_TIMEOUT = 900
SERVER_READY_TIMEOUT = 900


class Block:
    def __init__(self, doc, line, lang, info, text, directives):
        self.doc, self.line, self.lang, self.info = doc, line, lang, info
        self.text, self.directives = text, directives

    @property
    def where(self):
        doc = self.doc.relative_to(ROOT) if self.doc.is_relative_to(ROOT) else self.doc
        return f"{doc}:{self.line}"


def parse_directives(comment, where):
    out = {}
    # A reason is prose: `skip:` takes the rest of the comment, semicolons included.
    comment, skip, reason = comment.partition("skip:")
    if skip:
        out["skip"] = reason.strip()
    for part in filter(None, (p.strip() for p in comment.split(";"))):
        name, _, value = part.partition(":")
        name = name.strip()
        if name == "skip":
            raise SystemExit(f"{where}: `skip` needs a reason: <!-- docs: skip: why -->")
        if name not in DIRECTIVES:
            raise SystemExit(f"{where}: unknown docs directive {name!r} (known: {', '.join(sorted(DIRECTIVES))})")
        out[name] = value.strip() if value else True
    if out.get("skip") == "":
        raise SystemExit(f"{where}: `skip` needs a reason: <!-- docs: skip: why -->")
    return out


def blocks(doc):
    """The fenced blocks of a Markdown file that are in a runnable language."""
    lines = doc.read_text().split("\n")
    found, i, pending = [], 0, None
    while i < len(lines):
        line = lines[i]
        mark = re.match(r"^\s*<!--\s*docs:(.*?)-->\s*$", line)
        if mark:
            pending = (mark.group(1), i + 1)
            i += 1
            continue
        fence = re.match(r"^(\s*)(```+)(.*)$", line)
        if not fence:
            if line.strip():
                pending = None
            i += 1
            continue
        indent, ticks, info = fence.group(1), fence.group(2), fence.group(3).strip()
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(ticks):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        lang = RUNNABLE.get(info.split(",")[0].split()[0] if info else "")
        directives = parse_directives(pending[0], f"{doc.name}:{pending[1]}") if pending else {}
        pending = None
        if lang:
            found.append(Block(doc, start, lang, info, "\n".join(body) + "\n", directives))
        elif directives:
            raise SystemExit(f"{doc.name}:{start}: a docs mark before a block in no runnable language ({info or 'none'})")
    return found


CLONE = ROOT / "target" / "docs-clone"


def prepare_clone():
    """CLONE as a copy of this checkout's tracked files as they are in the work tree, with
    their times, so the builds kept in CLONE/target are reused where nothing changed."""
    CLONE.mkdir(parents=True, exist_ok=True)
    for entry in CLONE.iterdir():
        if entry.name != "target":
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["xargs", "-0", "cp", "--parents", "-P", "--preserve=timestamps,mode", "-t", str(CLONE)],
                   cwd=ROOT, input=files, check=True)


class Group:
    """The directory and servers of a block and the blocks that continue it."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="docs-block-"))
        (self.dir / "keypair").symlink_to(CLONE)
        self.servers, self.failed = [], False

    def close(self):
        for proc, log in self.servers:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def command_for(block, group, workdir):
    """Writes what the block needs into workdir; the shell command that runs it (or None)."""
    d = block.directives
    target = d.get("file") or d.get("append")
    if target:
        path = workdir / target
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a" if "append" in d else "w") as f:
            f.write(block.text)
        return d.get("run")
    first = block.text.split("\n", 1)[0]
    header = FILE_HEADER.match(first)
    if block.lang in ("python", "js") and header:
        (workdir / header.group(1)).write_text(block.text)
        return d.get("run") or header.group(2)
    script = group.dir / f".block-{block.line}"
    script.write_text(block.text)
    if block.lang == "sh":
        return f"bash -euo pipefail {script}"
    if block.lang == "python":
        return f"python3 {script}"
    if block.lang == "js":
        return f"node {script}"
    if block.lang == "toml":
        (workdir / "keypaird.toml").write_text(block.text)
        return d.get("run") or "keypaird serve --check --config keypaird.toml"
    raise RuntimeError(f"a {block.lang} block needs `file:` and `run:` (or `skip:`)")


def environment():
    env = dict(os.environ)
    venv = ROOT / "target" / "docs-venv"
    if not (venv / "bin" / "python3").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    env["VIRTUAL_ENV"] = str(venv)
    for name in ("KEYPAIRD_BIN", "CARGO_TARGET_DIR"):
        env.pop(name, None)
    return env


def run(block, group, env):
    d = block.directives
    workdir = group.dir / d.get("cwd", ".")
    command = command_for(block, group, workdir)
    if command is None:
        return "written"
    timeout = float(d.get("timeout", DEFAULT_TIMEOUT))
    if "server" in d:
        log_path = group.dir / f".server-{block.line}.log"
        log = open(log_path, "w+")
        proc = subprocess.Popen(command, shell=True, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        group.servers.append((proc, log))
        deadline = time.monotonic() + max(timeout, SERVER_READY_TIMEOUT)
        while time.monotonic() < deadline:
            text = log_path.read_text()
            if "listening on" in text:
                return "serving"
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited ({proc.returncode}) before it listened:\n{text[-3000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"the server did not print `listening on` in time:\n{log_path.read_text()[-3000:]}")
    out = subprocess.run(command, shell=True, cwd=workdir, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=timeout, start_new_session=True)
    if out.returncode != 0:
        raise RuntimeError(f"exit status {out.returncode}:\n{out.stdout[-4000:]}")
    return "ok"


def main(argv):
    docs = [Path(a).resolve() for a in argv] or [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    env = environment()
    prepare_clone()
    ran, skipped, failed = [], [], []
    for doc in docs:
        group = None
        for block in blocks(doc):
            d = block.directives
            if "skip" in d:
                skipped.append((block, d["skip"]))
                print(f"skip  {block.where} {block.lang}: {d['skip']}", flush=True)
                continue
            if "continues" not in d or group is None:
                if group:
                    group.close()
                group = Group()
            elif group.failed:
                failed.append((block, "the block it continues failed"))
                print(f"FAIL  {block.where} {block.lang}: the block it continues failed", flush=True)
                continue
            started = time.monotonic()
            try:
                outcome = run(block, group, env)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                group.failed = True
                failed.append((block, str(e)))
                print(f"FAIL  {block.where} {block.lang}: {e}", flush=True)
                continue
            ran.append(block)
            print(f"ran   {block.where} {block.lang} ({outcome}, {time.monotonic() - started:.1f} s)", flush=True)
        if group:
            group.close()
    print(f"\n{len(ran)} blocks ran, {len(skipped)} marked as not runnable, {len(failed)} failed")
    for block, reason in skipped:
        print(f"  not runnable: {block.where}: {reason}")
    for block, reason in failed:
        print(f"  FAILED: {block.where}: {reason.splitlines()[0] if reason else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
