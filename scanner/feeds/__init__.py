"""Feeds: install, update, import, export and report the reference-data snapshot judges read.

The snapshot's model (what a feed is, how one is read) is :mod:`scanner.model.feeds`; this
package moves snapshots on and off the machine. ``shipped/`` is the default snapshot, a copy of
the public sources (see ``shipped/SOURCES.md``), so a scan works offline out of the box.
"""
