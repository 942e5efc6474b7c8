"""Why customers answer as they do: the multilingual reason classifier and the
cover-reason rule."""
