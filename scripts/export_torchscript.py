#!/usr/bin/env python3
"""Export a NeuralOM network as a TorchScript archive for the neuralom C++ engine.

    python3 scripts/export_torchscript.py --model stage1 --checkpoint best_ckpt.tar --out stage1.pt

Run with --help for all options. The work is done by the neuralom_export package next to this
file (neuralom_export/cli.py). If this interpreter has no torch, the script re-runs itself with
$PYTHON, $NEURALOM_PYTHON or /usr/bin/python3 when one of those has it.
"""

import os
import subprocess
import sys

_REEXEC_GUARD = "NEURALOM_EXPORT_REEXEC"


def _has_torch(python: str) -> bool:
    try:
        return subprocess.run([python, "-c", "import torch"], capture_output=True).returncode == 0
    except OSError:
        return False


def _python_with_torch():
    """Another interpreter that can import torch, or None."""
    here = os.path.realpath(sys.executable or "")
    seen = {here}
    candidates = (os.environ.get("PYTHON"), os.environ.get("NEURALOM_PYTHON"), "/usr/bin/python3")
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        if os.path.realpath(candidate) in seen:
            continue
        seen.add(os.path.realpath(candidate))
        if _has_torch(candidate):
            return candidate
    return None


def _ensure_torch() -> None:
    """Import torch, or re-run under an interpreter that has it, or exit 2 with advice."""
    try:
        import torch  # noqa: F401
        return
    except ImportError as exc:
        reason = str(exc)
    if not os.environ.get(_REEXEC_GUARD):
        python = _python_with_torch()
        if python:
            print(f"note: {sys.executable} cannot import torch; re-running with {python}",
                  file=sys.stderr, flush=True)
            os.environ[_REEXEC_GUARD] = "1"
            os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])
    print(
        f"error: this Python ({sys.executable}) cannot import torch ({reason}).\n"
        "       Run the exporter with an interpreter that has torch, e.g.\n"
        "         /usr/bin/python3 scripts/export_torchscript.py ...\n"
        "       or set $PYTHON=/path/to/python (scripts/setup.sh finds one for you).",
        file=sys.stderr,
    )
    sys.exit(2)


if __name__ == "__main__":
    _ensure_torch()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from neuralom_export.cli import main

    sys.exit(main())
