"""Index on disk -> retrieval -> answers; the FastAPI app over them."""
