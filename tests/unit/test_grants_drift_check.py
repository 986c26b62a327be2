"""`grant.sla.grants_drift: fail`: every kind of difference `grant drift` reports is a breach in `monitor check`."""

from __future__ import annotations

from lakectl.governance.backend import PrincipalChange, Securable
from lakectl.governance.plan import Plan
from lakectl.monitor.sla import drift_check

TABLE = Securable("table", ("main", "sales", "orders"))


def test_no_difference_passes():
    check = drift_check(Plan(securables=[TABLE], unchanged=4), "configs/grants.yaml")
    assert check.status == "pass" and check.value == 0


def test_owner_and_mask_drift_are_breaches_like_grant_drift():
    plan = Plan(
        securables=[TABLE],
        changes=[PrincipalChange(TABLE, "bob@example.com", remove=("MODIFY",))],
        owner_changes=[
            {
                "kind": "owner_change",
                "securable_type": "table",
                "securable": "main.sales.orders",
                "from": "mallory@example.com",
                "to": "data-platform",
            }
        ],
        mask_changes=[
            {"kind": "mask_drop", "securable_type": "table", "securable": "main.sales.orders", "column": "email", "function": None}
        ],
    )
    check = drift_check(plan, "grants.yaml")
    assert check.status == "breach" and check.value == 3
    assert "out of policy: bob@example.com MODIFY on table main.sales.orders" in check.message
    assert "owner of table main.sales.orders is mallory@example.com, not data-platform" in check.message
    assert "mask drop on main.sales.orders.email" in check.message


def test_only_a_mask_changed_by_hand_is_still_a_breach():
    plan = Plan(
        securables=[TABLE],
        mask_changes=[
            {"kind": "row_filter_set", "securable_type": "table", "securable": "main.sales.orders", "column": None, "function": "f"}
        ],
    )
    assert drift_check(plan, "grants.yaml").status == "breach"
