"""A counter that never stops: the child process the crash-safety test kills at random.

    python tests/integration/crash_child.py DATA_DIR PEOPLE

Works through people W0001..W<PEOPLE> of the station prepared by test_crash_safety.py, doing for
each whatever is still to do, so that a restarted child carries on where a killed one stopped:

- the exchange: the old laptop WOLD-n back, the new laptop WNEW-n out; by courier for a shielding
  person while R5 allows it (else over the counter); every 20th person reports the old laptop
  stolen instead (R1 override by the site lead, the old laptop becomes lost); every 7th person is
  first refused (a new laptop already issued to someone else: R2), which must change nothing;
- the collection of the old laptop of a courier exchange, for even n.

After each action that committed it prints `done <action> <n> <seq>` and flushes, so the parent
knows what the counter told the operator was done before the kill.
"""

from __future__ import annotations

import sys
from pathlib import Path

from app.bootstrap import open_station
from app.domain.devices import DeviceState
from app.domain.rules import RuleRefused
from app.services import auth, exchanges, lookup

ENGINEER, ENGINEER_PIN = "E1", "3333"
LEAD, LEAD_PIN = "L1", "2222"


def person(n: int) -> str:
    return f"W{n:04d}"


def old_tag(n: int) -> str:
    return f"WOLD-{n:04d}"


def new_tag(n: int) -> str:
    return f"WNEW-{n:04d}"


def is_shielding(n: int) -> bool:
    return n % 6 == 0


def is_lost_report(n: int) -> bool:
    return n % 20 == 0


def main(data_dir: str, people: int) -> int:
    station = open_station(Path(data_dir))
    ctx = station.context
    actor = auth.sign_in(ctx, ENGINEER, ENGINEER_PIN)
    say("ready")
    for n in range(1, people + 1):
        new = lookup.find_device(ctx, new_tag(n)).device
        if new.state is DeviceState.IN_STOCK:
            exchange(ctx, actor, n)
        elif new.state is DeviceState.COURIER_PENDING and n % 2 == 0:
            exchanges.collect(ctx, actor, old_tag(n))
            say(f"done collect {n} -")
    say("finished")
    station.close()
    return 0


def exchange(ctx, actor, n: int) -> None:  # noqa: ANN001 - service context, operator
    if n % 7 == 0 and n > 1:
        try:
            exchanges.record_exchange(ctx, actor, exchanges.ExchangeCommand(
                person(n), (old_tag(n),), (new_tag(n - 1),)))
            raise AssertionError(f"{new_tag(n - 1)} was issued twice")
        except RuleRefused:
            pass
    if is_lost_report(n):
        cmd = exchanges.ExchangeCommand(person(n), (), (new_tag(n),), override=(
            exchanges.OverrideRequest("laptop stolen, crime ref 44/1234/25", LEAD, LEAD_PIN)))
    else:
        cmd = exchanges.ExchangeCommand(person(n), (old_tag(n),), (new_tag(n),),
                                        courier=is_shielding(n))
    try:
        receipt = exchanges.record_exchange(ctx, actor, cmd)
    except RuleRefused as refused:
        if not cmd.courier or refused.error_code != "R5":
            raise
        receipt = exchanges.record_exchange(ctx, actor, exchanges.ExchangeCommand(
            person(n), (old_tag(n),), (new_tag(n),)))
    kind = "courier" if receipt.outcome.courier else "exchange"
    say(f"done {kind} {n} {receipt.seq}")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], int(sys.argv[2])))
