"""How the processes Pulumi runs floe-infra in end: the program, and the provider process of its dynamic resources.

Both live for one operation, and the engine waits for each to exit. Python's last act at exit is a
garbage collection over every object still alive, the imported libraries' included (pulumi,
pulumi_kubernetes, pydantic models, pyiceberg): about half a second per process, more on a busy
machine, paid by every preview and `pulumi up` (benchmarks/bench_engine.py, "program exit" and
"shutdown"). Nothing floe-infra holds needs it: files and connections are closed as their
references go, and what a collection would find, the operating system reclaims with the process.
"""

from __future__ import annotations

import atexit
import functools
import gc


@functools.cache
def skip_final_collection() -> None:
    """Freeze every object when the process exits, so that the interpreter's final collection has nothing to
    walk (registered once per process)."""
    atexit.register(gc.freeze)
