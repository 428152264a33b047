"""Documents in -> cleaned text -> chunks -> vectors + keyword index on disk."""
