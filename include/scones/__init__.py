"""Scones Unlimited ML workflow."""
