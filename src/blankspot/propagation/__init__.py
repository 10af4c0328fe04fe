"""Propagation: line of sight, path-loss models and the link budget."""

from blankspot.propagation.budget import LinkBudget
from blankspot.propagation.los import Viewshed, viewshed
from blankspot.propagation.models import free_space_loss_db

__all__ = ["LinkBudget", "Viewshed", "free_space_loss_db", "viewshed"]
