"""The tables transform reads and writes, as handles resolved from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from lakectl.config import Settings, TableHandle


@dataclass(frozen=True)
class TransformTables:
    bronze: TableHandle
    events: TableHandle
    reviews: TableHandle
    quarantine: TableHandle
    customers: TableHandle
    products: TableHandle
    dq: TableHandle

    @classmethod
    def of(cls, s: Settings) -> TransformTables:
        return cls(
            *(
                s.table(k)
                for k in (
                    "bronze.events",
                    "silver.events",
                    "silver.reviews",
                    "silver.quarantine",
                    "silver.customers",
                    "silver.products",
                    "ops.dq_metrics",
                )
            )
        )

    def written(self) -> list[TableHandle]:
        return [self.events, self.reviews, self.quarantine, self.customers, self.products, self.dq]
