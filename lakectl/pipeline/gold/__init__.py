"""Gold: the analytics tables' builders."""
