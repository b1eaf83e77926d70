"""Deterministic synthetic e-commerce data for the bronze tables.

Same seed, same rows: the volumes are fixed (customers 1,000; products 100; orders 5,000;
order items 10,000) and every value derives from one `random.Random`, so a re-run of the seeding
job overwrites bronze with exactly the same data. The rows are deliberately a little messy, as
raw data is, so that the staging models have something to clean: e-mails in mixed case with
stray spaces, country codes in any case, a few orders with an unknown status.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

COUNTS = {"customers": 1_000, "products": 100, "orders": 5_000, "order_items": 10_000}
SEED = 20_240_601
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

FIRST_NAMES = ("Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger",
               "Radia", "Tim", "Sophie", "Guido", "Hedy", "John", "Katherine", "Niklaus", "Shafi", "Yukihiro")
LAST_NAMES = ("Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen",
              "Dijkstra", "Perlman", "Berners-Lee", "Wilson", "van Rossum", "Lamarr", "Backus", "Johnson",
              "Wirth", "Goldwasser", "Matsumoto")
COUNTRIES = ("US", "us", "GB", "gb ", "DE", "de", "FR", "NL", "SE", "ES", "IT", "JP", "CA", "AU", "BR")
CATEGORIES = {"Electronics": (49, 1299), "Books": (8, 60), "Home": (12, 400), "Garden": (5, 250),
              "Toys": (6, 120), "Sports": (10, 500), "Beauty": (4, 90), "Grocery": (2, 40)}
ADJECTIVES = ("Classic", "Smart", "Compact", "Deluxe", "Eco", "Portable", "Premium", "Essential", "Pro", "Mini")
NOUNS = {"Electronics": ("Headphones", "Speaker", "Monitor", "Keyboard", "Camera"),
         "Books": ("Novel", "Cookbook", "Atlas", "Biography", "Guide"),
         "Home": ("Lamp", "Blanket", "Kettle", "Chair", "Mirror"),
         "Garden": ("Planter", "Hose", "Shovel", "Lantern", "Seeds"),
         "Toys": ("Puzzle", "Robot", "Kite", "Blocks", "Train"),
         "Sports": ("Racket", "Ball", "Mat", "Bottle", "Helmet"),
         "Beauty": ("Serum", "Soap", "Brush", "Lotion", "Balm"),
         "Grocery": ("Coffee", "Tea", "Honey", "Olive Oil", "Chocolate")}
# Mostly delivered; a few in flight, some cancelled or returned, and a sprinkle of garbage.
STATUSES = (("delivered", 70), ("shipped", 10), ("processing", 6), ("cancelled", 8), ("returned", 5),
            ("UNKNOWN", 1))


@dataclass(frozen=True)
class BronzeData:
    """Rows of the four bronze tables, as dicts keyed by column name."""

    customers: list[dict[str, Any]]
    products: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    order_items: list[dict[str, Any]]

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """Table name -> rows."""
        return {"customers": self.customers, "products": self.products, "orders": self.orders,
                "order_items": self.order_items}


def _customers(rng: random.Random, ingested_at: datetime) -> list[dict[str, Any]]:
    rows = []
    for customer_id in range(1, COUNTS["customers"] + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last.replace(' ', '')}{customer_id}@example.com"
        if rng.random() < 0.2:
            email = f"  {email.upper()} "
        rows.append({"customer_id": customer_id, "first_name": first, "last_name": last,
                     "email": email.lower() if rng.random() < 0.5 and email.strip() == email else email,
                     "country": rng.choice(COUNTRIES),
                     "signup_at": EPOCH + timedelta(days=rng.randrange(0, 365), seconds=rng.randrange(86_400)),
                     "ingested_at": ingested_at})
    return rows


def _products(rng: random.Random, ingested_at: datetime) -> list[dict[str, Any]]:
    rows = []
    categories = list(CATEGORIES)
    for product_id in range(1, COUNTS["products"] + 1):
        category = categories[(product_id - 1) % len(categories)]
        low, high = CATEGORIES[category]
        price = Decimal(rng.randrange(low * 100, high * 100)) / 100
        rows.append({"product_id": product_id,
                     "name": f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS[category])}",
                     # Raw category labels vary in case and spacing; staging normalizes them.
                     "category": category if rng.random() < 0.8 else f" {category.lower()}",
                     "unit_price": price.quantize(Decimal("0.01")), "ingested_at": ingested_at})
    return rows


def _orders(rng: random.Random, customers: list[dict[str, Any]], ingested_at: datetime) -> list[dict[str, Any]]:
    statuses, weights = zip(*STATUSES, strict=True)
    rows = []
    for order_id in range(1, COUNTS["orders"] + 1):
        customer = rng.choice(customers)
        ordered_at = customer["signup_at"] + timedelta(days=rng.randrange(0, 300), seconds=rng.randrange(86_400))
        rows.append({"order_id": order_id, "customer_id": customer["customer_id"],
                     "status": rng.choices(statuses, weights)[0], "ordered_at": ordered_at,
                     "ingested_at": ingested_at})
    return rows


def _order_items(rng: random.Random, orders: list[dict[str, Any]], products: list[dict[str, Any]],
                 ingested_at: datetime) -> list[dict[str, Any]]:
    # Every order gets one line, the remaining lines go to random orders: exactly the target count.
    order_ids = [o["order_id"] for o in orders]
    owners = order_ids + [rng.choice(order_ids) for _ in range(COUNTS["order_items"] - len(order_ids))]
    owners.sort()
    rows = []
    for order_item_id, order_id in enumerate(owners, start=1):
        product = rng.choice(products)
        # Mostly the list price, sometimes a discount at checkout.
        discount = Decimal(rng.choice((100, 100, 100, 95, 90, 80))) / 100
        rows.append({"order_item_id": order_item_id, "order_id": order_id, "product_id": product["product_id"],
                     "quantity": rng.choices((1, 2, 3, 4, 5), (60, 20, 10, 6, 4))[0],
                     "unit_price": (product["unit_price"] * discount).quantize(Decimal("0.01")),
                     "ingested_at": ingested_at})
    return rows


def generate(ingested_at: datetime = EPOCH + timedelta(days=400), seed: int = SEED) -> BronzeData:
    """The bronze data set: the same rows for the same seed and ingestion time."""
    rng = random.Random(seed)
    customers = _customers(rng, ingested_at)
    products = _products(rng, ingested_at)
    orders = _orders(rng, customers, ingested_at)
    return BronzeData(customers, products, orders, _order_items(rng, orders, products, ingested_at))
