"""Labelled questions and the retrieval scorer."""
