"""Market estimators: pure functions over stored data."""
