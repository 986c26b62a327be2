"""The generator's customers and products: seeded rows, and their landing files."""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta
from pathlib import Path

from lakectl.datagen.weighted import choice_table

SEGMENTS = (("new", 0.30), ("regular", 0.45), ("loyal", 0.18), ("vip", 0.07))
COUNTRIES = (
    ("US", 0.34),
    ("GB", 0.11),
    ("DE", 0.10),
    ("FR", 0.08),
    ("IN", 0.09),
    ("BR", 0.07),
    ("JP", 0.06),
    ("CA", 0.06),
    ("AU", 0.04),
    ("NL", 0.05),
)
DEVICES = (("mobile", 0.56), ("desktop", 0.34), ("tablet", 0.10))
CATEGORIES = {  # category: (median price, spread)
    "electronics": (180.0, 0.9),
    "books": (16.0, 0.4),
    "fashion": (45.0, 0.6),
    "home": (60.0, 0.7),
    "beauty": (22.0, 0.5),
    "sports": (55.0, 0.7),
    "toys": (28.0, 0.6),
    "grocery": (9.0, 0.5),
}
BRANDS = ("Acme", "Northwind", "Contoso", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay")


def make_customers(rng: random.Random, n: int, start: datetime) -> list[dict]:
    seg_v, seg_w = choice_table(SEGMENTS)
    cty_v, cty_w = choice_table(COUNTRIES)
    dev_v, dev_w = choice_table(DEVICES)
    customers = []
    for i in range(n):
        segment = rng.choices(seg_v, cum_weights=seg_w)[0]
        tenure = rng.randint(0, 60) if segment == "new" else rng.randint(60, 2000)
        customers.append(
            {
                "customer_id": f"C{i:07d}",
                "segment": segment,
                "signup_date": (start - timedelta(days=tenure)).date().isoformat(),
                "country": rng.choices(cty_v, cum_weights=cty_w)[0],
                "preferred_device": rng.choices(dev_v, cum_weights=dev_w)[0],
                "age_band": rng.choice(("18-24", "25-34", "35-44", "45-54", "55-64", "65+")),
            }
        )
    return customers


def make_products(rng: random.Random, n: int) -> list[dict]:
    categories = list(CATEGORIES)
    products = []
    for i in range(n):
        category = categories[i % len(categories)] if i < len(categories) else rng.choice(categories)
        median, spread = CATEGORIES[category]
        price = round(max(1.0, rng.lognormvariate(math.log(median), spread)), 2)
        brand = rng.choice(BRANDS)
        products.append(
            {
                "product_id": f"P{i:05d}",
                "name": f"{brand} {category.title()} {i:05d}",
                "category": category,
                "brand": brand,
                "list_price": price,
            }
        )
    return products


def dimension_rows(
    events: int, *, seed: int, start: datetime, customers: int | None = None, products: int | None = None
) -> tuple[list[dict], list[dict]]:
    """The customers and products the events of these arguments refer to (drawn first from the seed)."""
    rng = random.Random(seed)
    n_customers = customers or max(50, events // 50)
    n_products = products or max(20, min(2000, events // 500))
    return make_customers(rng, n_customers, start), make_products(rng, n_products)


def write_dimensions(out_dir: Path, tag: str, cust: list[dict], prod: list[dict], *, dry_run: bool = False) -> list[str]:
    """out_dir/customers/customers-<tag>.jsonl and out_dir/products/products-<tag>.jsonl, each written
    whole under a temporary name first (a reader never sees half a file). A dry run only names them."""
    files = []
    for name, rows in (("customers", cust), ("products", prod)):
        f = Path(out_dir) / name / f"{name}-{tag}.jsonl"
        if not dry_run:
            f.parent.mkdir(parents=True, exist_ok=True)
            tmp = f.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
            tmp.rename(f)
        files.append(str(f))
    return files
