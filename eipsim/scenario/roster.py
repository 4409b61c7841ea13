"""Roster files: a CSV of real firms (name, sector, nationality, size, plot).

Every problem names the file and the row, and the roster must agree with its scenario
(sectors in the catalogue, nationalities in ``firms.nationality_mix``, plots in the park).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Collection
from pathlib import Path
from typing import Any

from eipsim.errors import UserError
from eipsim.scenario.catalogue import load_catalogue

ROSTER_COLUMNS = ("name", "sector", "nationality", "size", "plot")
# optional: the month a firm enters the park (0 = from the start), and a ``network``: firms
# that share one (a chain the developer recruited together, a parent-company group) know each
# other's streams from the day both are in the park
MAX_ENTRY_MONTH = 2400
MAX_ROSTER_SIZE = 1000.0  # a firm's size relative to the park's average firm
MAX_ROSTER_BYTES = 50_000_000


def read_roster(
    path: Path,
    grid: tuple[int, int],
    nationalities: Collection[str] | None = None,
    sectors: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """Read and check a roster CSV; ``nationalities``: those the scenario's mix allows;
    ``sectors``: those of the scenario's catalogue (default: the package's)."""
    known_sectors = load_catalogue().sectors if sectors is None else tuple(sectors)
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: roster file not found (or not a regular file)")
    if path.stat().st_size > MAX_ROSTER_BYTES:
        raise UserError(f"{path}: larger than {MAX_ROSTER_BYTES:,} bytes; not a roster")
    try:
        # utf-8-sig: spreadsheet programs save "CSV UTF-8" with a byte-order mark
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            # "name, sector, nationality" (spaces after the commas) is the same header
            header = [(h or "").strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            missing = [c for c in ROSTER_COLUMNS if c not in header and c not in ("name", "plot")]
            if missing:
                raise UserError(
                    f"{path}: missing column(s) {', '.join(missing)}; "
                    f"expected columns: {', '.join(ROSTER_COLUMNS)} (name and plot optional)"
                )
            rows = []
            plots_seen: set[int] = set()
            for i, raw in enumerate(reader, start=2):
                rows.append(
                    _roster_row(path, i, raw, known_sectors, grid, plots_seen, nationalities)
                )
            return rows
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text CSV file") from None
    except csv.Error as err:
        raise UserError(f"{path}: not a readable CSV file ({err})") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read the roster ({err.strerror})") from None


def _cell(raw: dict[Any, Any], key: str) -> str:
    v = raw.get(key)
    return v.strip() if isinstance(v, str) else ""


def _roster_row(
    path: Path,
    line: int,
    raw: dict[Any, Any],
    sectors: Collection[str],
    grid: tuple[int, int],
    plots_seen: set[int],
    nationalities: Collection[str] | None = None,
) -> dict[str, Any]:
    where = f"{path}, row {line}"
    sector = _cell(raw, "sector")
    if sector not in sectors:
        raise UserError(f"{where}: unknown sector {sector!r}; known sectors: {', '.join(sectors)}")
    nat = _cell(raw, "nationality")
    if not nat:
        raise UserError(f"{where}: nationality is empty")
    if nationalities is not None and nat not in nationalities:
        raise UserError(
            f"{where}: nationality {nat!r} is not in firms.nationality_mix "
            f"({', '.join(nationalities)}); add it there (a share of 0 is allowed)"
        )
    size_txt = _cell(raw, "size")
    try:
        size = float(size_txt)
    except ValueError:
        raise UserError(f"{where}: size must be a number (got {size_txt!r})") from None
    if not (math.isfinite(size) and 0 < size <= MAX_ROSTER_SIZE):
        raise UserError(f"{where}: size must be > 0 and <= {MAX_ROSTER_SIZE:g} (got {size_txt})")
    plot_txt = _cell(raw, "plot")
    plot = None
    if plot_txt:
        try:
            plot = int(plot_txt)
        except ValueError:
            raise UserError(f"{where}: plot must be an integer index (got {plot_txt!r})") from None
        n = grid[0] * grid[1]
        if not 0 <= plot < n:
            raise UserError(f"{where}: plot {plot} outside the park's plots 0..{n - 1}")
        if plot in plots_seen:
            raise UserError(f"{where}: plot {plot} is used twice")
        plots_seen.add(plot)
    name = _cell(raw, "name") or f"{sector}-{line - 1}"
    entry_txt = _cell(raw, "entry_month")
    entry = 0
    if entry_txt:
        try:
            entry = int(entry_txt)
        except ValueError:
            raise UserError(
                f"{where}: entry_month must be a whole number of months (got {entry_txt!r})"
            ) from None
        if not 0 <= entry <= MAX_ENTRY_MONTH:
            raise UserError(f"{where}: entry_month must be 0..{MAX_ENTRY_MONTH} (got {entry})")
    row: dict[str, Any] = {
        "name": name,
        "sector": sector,
        "nationality": nat,
        "size": size,
        "plot": plot,
    }
    if entry:
        row["entry_month"] = entry  # a later entrant (absent: from the start)
    network = _cell(raw, "network")
    if network:
        if len(network) > 200:
            raise UserError(f"{where}: network must be a short name (got {len(network)} chars)")
        row["network"] = network
    return row
