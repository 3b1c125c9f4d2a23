"""R5, the courier allowance: courier laptops never pass 25% of laptops issued.

With N laptops issued over the counter and C by courier, C <= 0.25 (N + C) is 3C <= N.
A station may courier one more laptop only while 3 x (C + 1) <= N + granted - released, where
`granted` and `released` are escrow units moved through central (SYNC.md 2.6; zero until sync).
"""

from __future__ import annotations

from dataclasses import dataclass

UNITS_PER_COURIER_LAPTOP = 3


@dataclass(frozen=True)
class CourierAllowance:
    counter_laptops: int = 0
    courier_laptops: int = 0
    granted_units: int = 0
    released_units: int = 0

    @property
    def balance(self) -> int:
        """Escrow units this station holds (SYNC.md: B = N - 3C + G - R)."""
        return (self.counter_laptops - UNITS_PER_COURIER_LAPTOP * self.courier_laptops
                + self.granted_units - self.released_units)

    @property
    def remaining(self) -> int:
        """How many more laptops this station may send by courier now."""
        return max(0, self.balance // UNITS_PER_COURIER_LAPTOP)

    def allows(self, extra_courier_laptops: int) -> bool:
        return self.balance >= UNITS_PER_COURIER_LAPTOP * extra_courier_laptops

    def counter_laptops_needed(self, extra_courier_laptops: int) -> int:
        """Counter laptops still to issue before `extra_courier_laptops` may go by courier."""
        return max(0, UNITS_PER_COURIER_LAPTOP * extra_courier_laptops - self.balance)

    def after(self, counter: int, courier: int) -> "CourierAllowance":
        return CourierAllowance(self.counter_laptops + counter, self.courier_laptops + courier,
                                self.granted_units, self.released_units)

    @property
    def laptops_issued(self) -> int:
        return self.counter_laptops + self.courier_laptops
