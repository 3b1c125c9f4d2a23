"""`python -m app` runs the exchange-station command."""

from app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
