"""Everything a plan is shown and written as: tables, maps, summaries, reports.

==============================  ==================================================================
module                          role
==============================  ==================================================================
:mod:`~.tables`                 planner tables keyed by kode wilayah, and every English and
                                Indonesian word of the outputs (columns, sheets, phrases)
:mod:`~.maps`                   the folium maps (the one place with lat/lon order)
:mod:`~.summary`                the terrain note, headline figures, map title, notebook table
:mod:`~.provenance`             the area, the input sources and licences, the run's software
:mod:`~.figure`                 the static A4 map for printed reports (matplotlib)
:mod:`~.export`                 CSV/XLSX/GeoPackage/COG/PNG/metadata reports (``write_reports``)
:mod:`~.outputs`                the whole output folder of a run (``write_outputs``)
==============================  ==================================================================

The package sits above the engine and below the chain: it reads a
:class:`blankspot.plan.PlanResult` but never imports :mod:`blankspot.plan` at run time.
"""

from __future__ import annotations

from blankspot.reporting.export import write_reports
from blankspot.reporting.outputs import write_outputs
from blankspot.reporting.summary import plan_folium_map, plan_summary, summary_html, terrain_note

__all__ = [
    "plan_folium_map",
    "plan_summary",
    "summary_html",
    "terrain_note",
    "write_outputs",
    "write_reports",
]
