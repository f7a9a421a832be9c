"""Benchmarks: how fast and how dense dindweb is, each measured against the same work done
by bare docker in the same run (`make bench`, or `python -m bench --help`)."""
