"""Running code as on a machine without the [train] extra: torch, transformers and onnx cannot be imported.

The test environment has torch (the encoder's training code is tested), and thinc imports torch
whenever it is installed, which costs every spaCy process hundreds of megabytes. A labelling
user's environment has none of it; processes started with these helpers see what they would see.
"""

from __future__ import annotations

import sys

WITHOUT_TRAINING_LIBRARIES = """
import importlib.abc, sys
class RefuseTrainingLibraries(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "transformers", "onnx"):
            raise ImportError(f"{name} is not installed (refused by the test)")
sys.meta_path.insert(0, RefuseTrainingLibraries())
"""


# Written at exit to the file named by $PEAK_MEMORY_FILE: the peak resident memory in MB of the
# process since it started (VmHWM: the forked test runner's pages, counted by ru_maxrss, are not)
# and of its largest waited-for child (worker processes, forked from this small process).
RECORD_PEAK_MEMORY = """
import atexit, os, resource
def _record_peak_memory():
    with open("/proc/self/status") as status:
        own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    with open(os.environ["PEAK_MEMORY_FILE"], "w") as out:
        out.write(str(max(own, children)))
if os.environ.get("PEAK_MEMORY_FILE"):
    atexit.register(_record_peak_memory)
"""


def cli_without_training_libraries() -> list[str]:
    """The `inspection-themes` command, run in an interpreter that cannot import torch; with
    $PEAK_MEMORY_FILE set, it writes its peak memory there (see `RECORD_PEAK_MEMORY`)."""
    script = WITHOUT_TRAINING_LIBRARIES + RECORD_PEAK_MEMORY + "from nlp.cli import app\nsys.argv[0] = 'inspection-themes'\napp()"
    return [sys.executable, "-c", script]


def python_without_training_libraries(script: str) -> list[str]:
    return [sys.executable, "-c", WITHOUT_TRAINING_LIBRARIES + script]
