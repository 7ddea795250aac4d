"""Your own status: global, per sphere, per account; auto-away on idle; work hours."""
