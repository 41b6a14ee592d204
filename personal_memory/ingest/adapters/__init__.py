"""One module per source kind, each exposing ``INGESTER`` and a streaming ``iter_datapoints(path)``."""
