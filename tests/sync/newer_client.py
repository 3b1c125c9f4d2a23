"""A station running a newer program than central knows (S8), in a process of its own:

    python tests/sync/newer_client.py DATA_DIR CENTRAL_URL N[:v]...

records, for each N, the exchange of demo person P(1000+N) (OLD-N back, NEW-N out) by the
engineer E1; `N:v` writes it with schema_v v, as a later release of the program would, the
others with this program's SCHEMA_VERSION. Then one sync; prints the sync report as JSON and
exits 0 when the sync went through, 5 when not.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.bootstrap import open_station  # noqa: E402
from app.domain import events  # noqa: E402
from app.persistence import uow  # noqa: E402
from app.services import auth  # noqa: E402
from app.services.exchanges import ExchangeCommand, record_exchange  # noqa: E402
from app.sync.runner import SyncRunner  # noqa: E402


def main() -> int:
    data_dir, url, actions = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    st = open_station(data_dir)
    try:
        engineer = auth.sign_in(st.context, "E1", "3333")
        for action in actions:
            n, _, version = action.partition(":")
            uow.SCHEMA_VERSION = int(version or events.SCHEMA_VERSION)
            try:
                record_exchange(st.context, engineer, ExchangeCommand(
                    f"P{1000 + int(n)}", returned=(f"OLD-{int(n):05d}",),
                    issued=(f"NEW-{int(n):05d}",), at_confirmed=True))
            finally:
                uow.SCHEMA_VERSION = events.SCHEMA_VERSION
        report = SyncRunner(st.engine).run_once(url)
        print(json.dumps(report.as_json()))
        return 0 if report.ok else 5
    finally:
        st.close()


if __name__ == "__main__":
    sys.exit(main())
