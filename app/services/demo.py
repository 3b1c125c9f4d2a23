"""A realistic demo site (people, register, stock) so a newcomer can try a swap at once.

The data goes through the same CSV imports as real data, so it is validated the same way.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from app.domain.people import Operator
from app.services import imports
from app.services.context import ServiceContext

_FIRST = ["Alex", "Sam", "Jordan", "Priya", "Tom", "Aisha", "Chris", "Megan", "Dev", "Laura",
          "Owen", "Fatima", "Ryan", "Hannah", "Kai", "Zoe", "Imran", "Beth", "Luke", "Nia"]
_LAST = ["Smith", "Patel", "Jones", "Khan", "Evans", "Brown", "Hughes", "Walsh", "Ahmed",
         "Taylor", "Murphy", "Reid", "Clarke", "Lewis", "Ward"]


def demo_csvs(site: str, people: int = 40, seed: int = 7) -> dict[str, str]:
    """CSV texts for `import people|devices|stock` describing a demo collection point."""
    rng = random.Random(seed)
    rows_people, rows_devices, rows_stock = [], [], []
    for n in range(1, people + 1):
        staff = f"P{1000 + n}"
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        shielding, at = ("yes" if n % 10 == 3 else "no"), ("yes" if n % 8 == 5 else "no")
        rows_people.append(f"{staff},{name},{site},{shielding},{at}")
        kind = "tablet" if n % 7 == 0 else "laptop"
        rows_devices.append(f"OLD-{n:05d},5CG{rng.randrange(10**6, 10**7)},{kind},"
                            f"{'Surface Pro 4' if kind == 'tablet' else 'HP EliteBook 840 G2'},"
                            f"Windows 8.1,{staff},no")
        if n % 4 == 0:
            rows_devices.append(f"DSK-{n:05d},CZC{rng.randrange(10**6, 10**7)},desktop,"
                                f"HP EliteDesk 800 G1,Windows 8.1,{staff},yes")
    rows_devices.append(f"DSK-90001,CZC0000001,desktop,HP EliteDesk 800 G1,Windows 10,,no")
    for n in range(1, 31):
        rows_stock.append(f"NEW-{n:05d},5CD{rng.randrange(10**6, 10**7)},laptop,"
                          f"Dell Latitude 5440,Windows 11,899.00")
    for n in range(31, 41):
        rows_stock.append(f"NEW-{n:05d},SUR{rng.randrange(10**6, 10**7)},tablet,"
                          f"Surface Pro 9,Windows 11,1049.00")
    return {
        "people": ",".join(imports.PEOPLE_COLUMNS) + "\n" + "\n".join(rows_people) + "\n",
        "devices": ",".join(imports.DEVICE_COLUMNS) + "\n" + "\n".join(rows_devices) + "\n",
        "stock": ",".join(imports.STOCK_COLUMNS) + "\n" + "\n".join(rows_stock) + "\n",
    }


def load_demo(ctx: ServiceContext, actor: Operator, site: str) -> dict[str, int]:
    """Import the demo site; returns rows imported by kind."""
    loaders = {"people": imports.import_people, "devices": imports.import_devices,
               "stock": imports.import_stock}
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, text in demo_csvs(site).items():
            path = Path(tmp) / f"demo-{kind}.csv"
            path.write_text(text, encoding="utf-8")
            counts[kind] = loaders[kind](ctx, actor, path).rows
    return counts
