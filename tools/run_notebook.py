#!/usr/bin/env python3
"""run_notebook.py — execute a Jupyter notebook top to bottom, as CI checks the course notebooks.

    python3 tools/run_notebook.py handouts/notebooks/pa1.ipynb
    python3 tools/run_notebook.py NB.ipynb --timeout 900 --env MLSYS_NOTEBOOK_SOLUTION=1 --output out.ipynb

Each cell runs in a fresh kernel (default `python3`) whose working directory is the notebook's
own folder, as in Jupyter; the course notebooks find the repo by walking up from there. The
kernel inherits this process's environment (plus --env KEY=VALUE). Each cell's printed output
is echoed as it completes, so a CI log shows how far the notebook got.

Exit status: 0 when every cell ran; 1 when a cell raised or ran past --timeout seconds (the
cell's number, source and traceback are printed); 2 for a usage problem (missing notebook,
nbclient not installed). Needs nbclient, nbformat and ipykernel (`./mlsys setup` installs them).
"""

import argparse
import os
import re
import sys
import time
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def plain(text: str) -> str:
    """Tracebacks from IPython carry ANSI colour codes; CI logs read better without them."""
    return ANSI.sub("", text)


def cell_text(cell) -> str:
    """The printed output of an executed cell: streams and plain-text results (a traceback is
    printed once, in the failure report)."""
    parts = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            if "text/plain" in data and not any(k.startswith("image/") for k in data):
                parts.append(data["text/plain"] + "\n")
            elif any(k.startswith("image/") for k in data):
                parts.append("[figure]\n")
    return plain("".join(parts))


def indent(text: str, prefix: str = "    ") -> str:
    return "".join(prefix + line for line in text.splitlines(True))


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("notebook", type=Path)
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("MLSYS_NOTEBOOK_TIMEOUT", 1200)),
                    help="seconds per cell (default 1200, or $MLSYS_NOTEBOOK_TIMEOUT); a first "
                         "build inside the notebook can take minutes")
    ap.add_argument("--kernel", default="python3", help="kernel name (default python3)")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment variable for the kernel (repeatable)")
    ap.add_argument("--output", type=Path, help="also write the executed notebook here")
    ap.add_argument("--quiet", action="store_true", help="do not echo each cell's output")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    except ImportError as e:
        print(f"run_notebook: {e}. Install the notebook tools with:\n"
              f"    {sys.executable} -m pip install nbclient nbformat ipykernel   (or ./mlsys setup)",
              file=sys.stderr)
        return 2
    path = args.notebook.resolve()
    if not path.is_file():
        print(f"run_notebook: no notebook at {args.notebook}", file=sys.stderr)
        return 2
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"run_notebook: --env expects KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        os.environ[key] = value  # the kernel is started with this process's environment

    nb = nbformat.read(str(path), as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    number = {index: n for n, index in enumerate(code_cells, start=1)}
    started = time.time()
    last = {"t": started}

    def on_cell_executed(cell, cell_index, **_):
        now = time.time()
        if not args.quiet and cell.cell_type == "code":
            print(f"--- cell {number[cell_index]}/{len(code_cells)} ({now - last['t']:.1f} s)", flush=True)
            text = cell_text(cell)
            if text.strip():
                print(indent(text.rstrip("\n")), flush=True)
        last["t"] = now

    client = NotebookClient(nb, timeout=args.timeout, kernel_name=args.kernel, allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}},
                            on_cell_executed=on_cell_executed)
    print(f"run_notebook: {args.notebook} ({len(code_cells)} code cells, kernel {args.kernel}, "
          f"{args.timeout} s per cell, cwd {path.parent})", flush=True)
    failure = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        failure = e
    finally:
        if args.output:
            nbformat.write(nb, str(args.output))

    seconds = time.time() - started
    if failure is None:
        print(f"run_notebook: OK, {len(code_cells)} code cells in {seconds:.1f} s")
        return 0

    # The failing cell is the first code cell whose outputs hold an error, or (on a timeout or
    # a dead kernel) the first one that never got an execution count.
    failed = next((i for i in code_cells if any(o.get("output_type") == "error" for o in nb.cells[i].outputs)),
                  None)
    if failed is None:
        failed = next((i for i in code_cells if nb.cells[i].get("execution_count") is None), code_cells[-1])
    cell = nb.cells[failed]
    reason = {CellTimeoutError: f"ran past the {args.timeout} s timeout",
              DeadKernelError: "killed the kernel"}.get(type(failure), "raised an error")
    print(f"\nrun_notebook: FAILED: code cell {number[failed]}/{len(code_cells)} {reason} "
          f"after {seconds:.1f} s.\n\n== source of cell {number[failed]}\n{indent(cell.source)}\n")
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        print("== traceback")
        for o in errors:
            print(indent(plain("\n".join(o.get("traceback", [])))))
    else:
        print("== error\n" + indent(plain(str(failure))))
    return 1


if __name__ == "__main__":
    sys.exit(main())
