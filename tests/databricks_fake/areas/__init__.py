"""One module per REST area; importing a module registers its routes."""
