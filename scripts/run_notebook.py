#!/usr/bin/env python3
"""Execute one notebook headlessly through a Jupyter kernel and save it as .ipynb and .html.

Called by `npm run notebooks` (dist/cli/notebooks.js), which finds the Python that has Jupyter,
picks the notebooks and sets S4_SIZE; the kernel inherits this process's environment.

Prints one progress line per code cell and, when a cell fails, a report with the cell, the error
and its traceback. The executed notebook (with the error, if any) is written atomically, so a
crash never leaves a half-written file.

Exit status: 0 all cells ran; 1 a cell failed, timed out or the kernel died; 2 bad arguments or
unreadable notebook; 3 the kernel is not registered or cannot start; 4 Jupyter is missing here.
"""
import argparse
import os
import re
import sys
import tempfile
import time

try:
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbconvert import HTMLExporter
except ImportError as e:
    print(f"run_notebook: this Python ({sys.executable}) lacks Jupyter: {e}", file=sys.stderr)
    sys.exit(4)

EXIT_CELL, EXIT_USAGE, EXIT_KERNEL = 1, 2, 3
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ERROR_LINE = re.compile(r"^\s*(Uncaught )?[A-Za-z]*(Error|Exception)\b.*:")  # "RangeError: bad step"
COMPILE_ERROR = re.compile(r"^\d+:\d+ - ")  # tslab's "line:col - message"
UMASK = os.umask(0)
os.umask(UMASK)


def strip_ansi(text):
    return ANSI.sub("", text)


def kernel_problem(name):
    """Why the kernel `name` cannot start here, or None if its spec looks usable."""
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return f'no Jupyter kernel named "{name}" is registered for {sys.executable}'
    # The spec stores the command that starts the kernel; a checkout that moved or was deleted
    # leaves an absolute path behind that no longer exists.
    cmd = spec.argv[0] if spec.argv else ""
    if os.path.isabs(cmd) and not os.access(cmd, os.X_OK):
        return f'the "{name}" kernel ({spec.resource_dir}) starts "{cmd}", which does not exist'
    return None


class Progress:
    """Prints one line per executed code cell: `[label] cell 5/42 ok 1.3s`."""

    def __init__(self, label, nb):
        self.label = label
        self.code_indices = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
        self.started = {}
        self.current = None  # index of the cell being run, for the failure report

    def ordinal(self, cell_index):
        return self.code_indices.index(cell_index) + 1 if cell_index in self.code_indices else 0

    def position(self, cell_index):
        return f"cell {self.ordinal(cell_index)}/{len(self.code_indices)}"

    def elapsed(self, cell_index):
        return time.monotonic() - self.started.get(cell_index, time.monotonic())

    def on_cell_start(self, cell, cell_index, **_):
        self.current = cell_index

    def on_cell_execute(self, cell, cell_index, **_):
        self.started[cell_index] = time.monotonic()

    def on_cell_executed(self, cell, cell_index, execute_reply, **_):
        status = execute_reply["content"]["status"] if execute_reply else "no reply"
        if status == "error" and "raises-exception" in cell.metadata.get("tags", []):
            status = "error (expected: tagged raises-exception)"
        print(f"[{self.label}] {self.position(cell_index)} {status} {self.elapsed(cell_index):.1f}s", flush=True)


def indent(text, prefix="    "):
    return "\n".join(prefix + line for line in text.splitlines())


def first_lines(source, n=6):
    lines = source.splitlines()
    more = [f"... ({len(lines) - n} more lines)"] if len(lines) > n else []
    return "\n".join(lines[:n] + more)


def error_text(cell):
    """What a failed cell reported, as (headline, details), from its outputs.

    Kernels such as IPython send an `error` output; tslab instead prints compile errors
    ("1:22 - Cannot find module ...") and stack traces to the cell's stderr stream.
    """
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            headline = f"{out.get('ename', 'Error')}: {strip_ansi(out.get('evalue', ''))}"
            return headline, strip_ansi("\n".join(out.get("traceback", []))).strip()
    stderr = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")
    lines = [line for line in strip_ansi(stderr).splitlines() if line.strip()]
    if not lines:
        return None, ""
    named = [line for line in lines if ERROR_LINE.match(line) or COMPILE_ERROR.match(line)]
    return (named[0] if named else lines[-1]).strip(), "\n".join(lines)


def report_failure(progress, nb, what):
    """Prints which cell failed, its first lines, and the error with its traceback."""
    bar = "=" * 72
    index = progress.current
    lines = [bar, f"[{progress.label}] FAILED at {progress.position(index)} (notebook cell index {index}): {what}"]
    if index is not None:
        cell = nb.cells[index]
        lines += ["  source:", indent(first_lines(cell.source))]
        headline, details = error_text(cell)
        if headline:
            lines.append(f"  error: {headline}")
        if details and details != headline:
            lines += ["  traceback:", indent(details)]
    lines.append(bar)
    print("\n".join(lines), file=sys.stderr, flush=True)


def write_atomic(path, text):
    """Writes text to a temporary file beside `path`, then renames it over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~UMASK)  # mkstemp makes it private; give it the usual mode
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save(nb, output):
    """Writes the executed notebook and its HTML export next to each other."""
    write_atomic(output, nbformat.writes(nb))
    html, _ = HTMLExporter().from_notebook_node(nb)
    write_atomic(os.path.splitext(output)[0] + ".html", html)


def execute(nb, args, progress):
    """Runs every cell; returns None on success, else a description of the failure."""
    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        startup_timeout=args.startup_timeout,
        # The kernel starts in the notebook's folder, so relative paths and imports resolve there.
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}},
        on_cell_start=progress.on_cell_start,
        on_cell_execute=progress.on_cell_execute,
        on_cell_executed=progress.on_cell_executed,
    )
    try:
        client.execute()
        return None
    except CellExecutionError:
        return "the cell raised an error"
    except CellTimeoutError:
        return f"timed out after {args.timeout} s (raise it with --timeout)"
    except DeadKernelError as e:
        return f"the kernel died: {e}"
    except Exception as e:
        if progress.current is None:
            raise  # the kernel never started: main() reports it as a kernel problem
        # e.g. a SIGTERM: nbclient shuts the kernel down, then trips over its own cleanup.
        return f"the run stopped: {type(e).__name__}: {e}"


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebook", nargs="?", help="the .ipynb file to execute")
    ap.add_argument("--output", help="where to write the executed .ipynb (the .html goes beside it)")
    ap.add_argument("--label", help="name shown in progress lines (default: the file name)")
    ap.add_argument("--kernel", default="tslab", help="Jupyter kernel name (default: tslab)")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per cell (default: 1200)")
    ap.add_argument("--startup-timeout", type=int, default=180, help="seconds for the kernel to start")
    ap.add_argument("--check", action="store_true", help="only check that the kernel is registered")
    args = ap.parse_args(argv)
    if not args.check and not (args.notebook and args.output):
        ap.error("a notebook and --output are required unless --check is given")
    if args.timeout <= 0:
        ap.error(f"--timeout must be a positive number of seconds, got {args.timeout}")
    return args


def main(argv):
    args = parse_args(argv)
    problem = kernel_problem(args.kernel)
    if problem:
        print(f"run_notebook: {problem}", file=sys.stderr)
        return EXIT_KERNEL
    if args.check:
        return 0
    label = args.label or os.path.splitext(os.path.basename(args.notebook))[0]
    try:
        nb = nbformat.read(args.notebook, as_version=4)
    except (OSError, ValueError) as e:
        print(f"run_notebook: cannot read {args.notebook}: {e}", file=sys.stderr)
        return EXIT_USAGE

    progress = Progress(label, nb)
    start = time.monotonic()
    try:
        failure = execute(nb, args, progress)
    except (NoSuchKernel, RuntimeError, OSError) as e:
        # Kernel start-up failures (missing binary, timeout waiting for it) land here.
        print(f"run_notebook: [{label}] the {args.kernel} kernel did not start: {e}", file=sys.stderr)
        return EXIT_KERNEL

    save(nb, args.output)
    took = time.monotonic() - start
    if failure:
        report_failure(progress, nb, failure)
        print(f"[{label}] failed after {took:.1f}s; executed notebook with the error: {args.output}", flush=True)
        return EXIT_CELL
    print(f"[{label}] done in {took:.1f}s -> {args.output}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
