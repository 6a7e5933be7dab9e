#!/usr/bin/env python3
"""Train the Rasa model only when its inputs changed.

The model file is named by a hash of everything that shapes it (config, domain, training
data, the custom NLU components, the locked Rasa dependencies), so `make run` and
`make test` reuse it until one of those changes.

    python scripts/model.py path     # print the model path for the current inputs
    python scripts/model.py ensure   # train it if it is missing, then print the path
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"


def inputs() -> list[Path]:
    files = [ROOT / "config.yml", ROOT / "domain.yml", ROOT / "requirements" / "rasa.lock"]
    files += sorted((ROOT / "data").rglob("*.yml"))
    # The components shape the features; nlu/langid.py runs at inference only, holds no
    # trained state, and so does not make the model stale.
    files += [ROOT / "nlu" / "components.py"]
    return files


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in inputs():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path() -> Path:
    return MODELS / f"luotsi-{fingerprint()}.tar.gz"


def train(target: Path) -> None:
    MODELS.mkdir(exist_ok=True)
    print(f"luotsi: training the Rasa model ({len(inputs())} input files changed since the last model)…",
          file=sys.stderr, flush=True)
    started = time.monotonic()
    # Rasa's training cache keys components by their config, not their code: a changed
    # nlu/components.py would silently reuse stale features. Our own hash decides instead.
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2", RASA_MAX_CACHE_SIZE="0",
               RASA_TELEMETRY_ENABLED="false")  # no telemetry, no error reports to Sentry
    subprocess.run(
        [str(RASA), "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
         "--out", str(MODELS), "--force", "--fixed-model-name", target.name.removesuffix(".tar.gz")],
        cwd=ROOT, env=env, check=True,
    )
    seconds = time.monotonic() - started
    (MODELS / "last-training-seconds.txt").write_text(f"{seconds:.1f}\n")
    print(f"luotsi: model trained in {seconds:.0f} s → {target.relative_to(ROOT)}", file=sys.stderr, flush=True)
    for old in MODELS.glob("luotsi-*.tar.gz"):
        if old != target:
            old.unlink()


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "path"
    target = model_path()
    if command == "ensure" and not target.exists():
        train(target)
    elif command not in ("path", "ensure"):
        print(__doc__, file=sys.stderr)
        return 2
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
