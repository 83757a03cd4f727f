"""The Dask engine gives the same results as the local engine (rules mode, two worker
processes on this machine)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from screener.reports.aggregate import build_tables
from screener.reports.engine import Settings, local_items, run_dask, run_local
from screener.reports.table import TableSpec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as c:
        yield c.scheduler_address


@pytest.fixture(scope="module")
def partitions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 example records in three JSONL partitions, with a bad line and a bad grade."""
    folder = tmp_path_factory.mktemp("parts")
    lines = (EXAMPLES / "report_records.jsonl").read_text("utf-8").splitlines()[:60]
    lines[7] = json.dumps({**json.loads(lines[7]), "doc_type": "letter"})
    for i in range(3):
        (folder / f"part-{i}.jsonl").write_text("\n".join(lines[i * 20:(i + 1) * 20]) + "\n",
                                                "utf-8")
    return folder


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("id", kind="stable").reset_index(drop=True)


def test_dask_equals_local(cluster: str, partitions: Path, tmp_path: Path,
                           settings: Settings, spec: TableSpec) -> None:
    local = run_local(local_items(partitions), settings)
    dask = run_dask(partitions, settings, tmp_path / "records.parquet", scheduler=cluster)
    assert dask.partitions == 3
    assert local.n_records == dask.n_records == 59
    assert [e.id for e in local.errors] == [e.id for e in dask.errors]
    assert "unknown doc_type 'letter'" in dask.errors[0].error
    # the tidy table the workers wrote, row for row
    assert local.tidy is not None
    written = pd.read_parquet(tmp_path / "records.parquet")
    pd.testing.assert_frame_equal(_sorted(local.tidy), _sorted(written))
    # the counts and every table derived from them
    for attr in ("grades", "markers", "examples"):
        pd.testing.assert_frame_equal(getattr(local.counts, attr), getattr(dask.counts, attr))
    assert local.counts.names == dask.counts.names
    a = build_tables(local.counts, spec, n_boot=200)
    b = build_tables(dask.counts, spec, n_boot=200)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


def test_dask_reads_parquet_partitions(cluster: str, partitions: Path, tmp_path: Path,
                                       settings: Settings) -> None:
    src = tmp_path / "parquet_in"
    src.mkdir()
    for f in sorted(partitions.glob("*.jsonl")):
        pd.read_json(f, lines=True, dtype=False).to_parquet(src / f"{f.stem}.parquet")
    local = run_local(local_items(partitions), settings)
    dask = run_dask(src, settings, tmp_path / "out.parquet", scheduler=cluster)
    pd.testing.assert_frame_equal(local.counts.grades, dask.counts.grades)
    pd.testing.assert_frame_equal(local.counts.markers, dask.counts.markers)
