"""Robustness: real Copilot manifests with one key at a time replaced by a value of another shape.

    python bench/copilot_fuzz.py DIR [--seed 1] [--keys 12]

For every workspace in DIR (as bench/copilot_import.py finds them), a scratch copy; in each of its manifests,
`--keys` sampled keys (down to three levels), each replaced in turn by null, a list, a map, text and a number.
Each variant is imported: it must import, or be refused with one line (`CopilotInputError`). Anything else is a
crash, printed with the key and value. Prints runs, imported, refused, crashes.
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from mapgate.importers.copilot import CopilotInputError, ImportRequest, run  # noqa: E402
from mapgate.importers.copilot.workspace import copilot_dir_in  # noqa: E402

VALUES: tuple[Any, ...] = (None, [1, "x"], {"a": 1}, "text", 7)


def keys_of(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for key, value in data.items():
        found.append((*prefix, key))
        if isinstance(value, dict) and len(prefix) < 2:
            found += keys_of(value, (*prefix, key))
    return found


def import_once(workspace: Path, project: Path, app: str | None) -> None:
    try:
        run(ImportRequest(workspace, project, app=app, shell={}))
    except CopilotInputError as error:
        if "name one with --env" not in str(error):
            raise
        run(ImportRequest(workspace, project, app=app, envs=("dev",), shell={}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keys", type=int, default=12, help="keys sampled per manifest")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    counts = {"imported": 0, "refused": 0, "crashed": 0}
    for repo in sorted(p for p in args.corpus.iterdir() if p.is_dir()):
        copilot_dir = copilot_dir_in(repo)
        if copilot_dir is None:
            continue
        with tempfile.TemporaryDirectory() as scratch:
            workspace = Path(scratch) / "ws"
            shutil.copytree(copilot_dir.parent, workspace, symlinks=True)
            for path in workspace.rglob("*"):
                path.chmod(0o755 if path.is_dir() else 0o644)
            app = None if (workspace / copilot_dir.name / ".workspace").is_file() else "fuzz"
            for manifest in sorted((workspace / copilot_dir.name).rglob("manifest.yml")):
                original = manifest.read_text()
                try:
                    data = yaml.load(original)
                except Exception:  # a manifest ruamel cannot read is not this bench's subject
                    continue
                if not isinstance(data, dict):
                    continue
                keys = keys_of(data)
                for key in rng.sample(keys, min(args.keys, len(keys))):
                    for value in VALUES:
                        changed = yaml.load(original)
                        node = changed
                        for part in key[:-1]:
                            node = node[part]
                        node[key[-1]] = value
                        text = io.StringIO()
                        yaml.dump(changed, text)
                        manifest.write_text(text.getvalue())
                        try:
                            import_once(workspace, Path(scratch), app)
                            counts["imported"] += 1
                        except CopilotInputError:
                            counts["refused"] += 1
                        except Exception:  # what this bench counts
                            counts["crashed"] += 1
                            where = manifest.relative_to(workspace)
                            print(f"crash: {repo.name} {where} {'.'.join(key)}={value!r}")
                            print("  " + traceback.format_exc().strip().splitlines()[-1])
                manifest.write_text(original)
    print(f"runs: {sum(counts.values())}, " + ", ".join(f"{name} {n}" for name, n in counts.items()))
    return 1 if counts["crashed"] else 0


if __name__ == "__main__":
    sys.exit(main())
