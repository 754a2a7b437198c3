"""Which file column feeds which field: defaults by name, overridden by --map / --map-file."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from tandem.imports.report import ImportUsageError


def normalise(name: str) -> str:
    """'External ID' and 'external-id' both mean the field external_id."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def load_mapping(*, pairs: list[str] | None = None, map_file: Path | None = None) -> dict[str, str]:
    """Read ``source=field`` pairs and a JSON ``{"source": "field"}`` file; pairs win."""
    mapping: dict[str, str] = {}
    if map_file is not None:
        try:
            data = json.loads(map_file.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise ImportUsageError(f"mapping file not found: {map_file}") from None
        except (ValueError, OSError) as exc:
            raise ImportUsageError(f"mapping file {map_file} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise ImportUsageError(f'mapping file {map_file} must be a JSON object of "source column": "field".')
        mapping.update({k.strip(): v.strip() for k, v in data.items()})
    for pair in pairs or []:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ImportUsageError(f"--map expects source_column=field, got '{pair}'.")
        mapping[source.strip()] = target.strip()
    return mapping


@dataclass(frozen=True)
class ColumnMap:
    """Where each field is in the file (``index``) and what the file calls it (``source``)."""

    index: dict[str, int]
    source: dict[str, str]
    warnings: list[str]

    def column(self, field: str) -> str:
        """The column name to show in errors: the file's own name when the field is mapped."""
        return self.source.get(field, field)


def resolve_columns(*, header: list[str], fields: list[str], required: list[str], mapping: dict[str, str]) -> ColumnMap:
    known = set(fields)
    by_exact = {name: i for i, name in enumerate(header)}
    by_normal = {normalise(name): i for i, name in enumerate(header) if name}

    index: dict[str, int] = {}
    for source, target in mapping.items():
        if target not in known:
            raise ImportUsageError(
                f"--map {source}={target}: '{target}' is not a field; fields are: " + ", ".join(fields)
            )
        position = by_exact.get(source, by_normal.get(normalise(source)))
        if position is None:
            raise ImportUsageError(f"--map {source}={target}: the file has no column '{source}'.")
        if target in index:
            raise ImportUsageError(f"two columns are mapped to the field '{target}'.")
        index[target] = position

    mapped_positions = set(index.values())
    for position, name in enumerate(header):
        field = normalise(name)
        if position in mapped_positions or field not in known or field in index:
            continue
        index[field] = position

    missing = [f for f in required if f not in index]
    if missing:
        plural = "columns" if len(missing) > 1 else "column"
        raise ImportUsageError(
            f"missing required {plural}: {', '.join(missing)} (rename the column or use --map source_column=field)."
        )

    used = set(index.values())
    warnings = [
        f"column '{name}' is not a known field and was ignored."
        for position, name in enumerate(header)
        if position not in used and name
    ]
    return ColumnMap(index=index, source={f: header[i] for f, i in index.items()}, warnings=warnings)
