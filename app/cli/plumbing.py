"""What every command shares: the parser, signing in, PINs, and printing results or errors."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable

from app.bootstrap import Station, open_station
from app.domain.people import Operator
from app.domain.rules import AuthFailed, UsageError
from app.services import auth


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would exit; we answer in the contract
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def acting(args: argparse.Namespace, act: Callable[[Station, Operator], int]) -> int:
    """Open the station, sign the operator in, run `act`."""
    if not args.operator:
        raise AuthFailed("this command needs --operator STAFF_ID (PIN from EXCHANGE_PIN)")
    opened = open_station(args.data_dir)
    try:
        actor = auth.sign_in(opened.context, args.operator, read_pin("EXCHANGE_PIN", "PIN: "))
        return act(opened, actor)
    finally:
        opened.close()


def read_pin(variable: str, prompt: str) -> str:
    if os.environ.get(variable):
        return os.environ[variable]
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    raise AuthFailed(f"no PIN given: set {variable} or run the command in a terminal")


def operator_json(operator: Operator) -> dict:
    return {"staff_id": operator.staff_id, "name": operator.name, "role": operator.role.value}


def respond(args: argparse.Namespace, result: dict, text: str) -> int:
    print(json.dumps(result, indent=2) if args.json else text)
    return 0


def fail(code: str, message: str, exit_code: int, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"error": {"code": code, "message": message}}))
    else:
        print(f"exchange-station: {message}", file=sys.stderr)
    return exit_code
