"""Benchmarks and load tests of the site and the shop; not part of the installed product.

Run from the checkout (`make bench`, `make shop-bench`, `make reliability`, or
`python -m bench.<module>`): the harness reads content/, writes docs/ and build/bench/, and
starts its servers in this folder.

    bench.site_build   the site build against Hugo, Pelican and MkDocs; incremental rebuilds
    bench.corpus       the synthetic corpus those builds read
    bench.documents    the PDF documents' render times
    bench.loadtest     the shop under gunicorn, driven by locust (reliability) and wrk (bench)
"""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
