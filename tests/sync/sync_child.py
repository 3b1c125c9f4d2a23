"""A station's sync in a process of its own, for the SIGKILL tests:

    python tests/sync/sync_child.py DATA_DIR CENTRAL_URL [ROUNDS]

`EXCHANGE_CRASH_AT=<point>` kills it with SIGKILL at that crash point (app/faults.py).
Exit 0 when every round synced, 5 when one failed.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.persistence.engine import database_path, make_engine  # noqa: E402
from app.sync.runner import SyncRunner  # noqa: E402


def main() -> int:
    data_dir, url = Path(sys.argv[1]), sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    engine = make_engine(database_path(data_dir))
    try:
        for _ in range(rounds):
            report = SyncRunner(engine, batch_size=2).run_once(url)
            if not report.ok:
                print(report.error, file=sys.stderr)
                return 5
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
