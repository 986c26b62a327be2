"""Gold: the analytics tables' builders, refresh planning, writing, the KPI summary and export."""
