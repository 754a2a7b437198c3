import datetime as dt
from pathlib import Path

import pytest

from tandem.risk import services
from tandem.risk.model import ChurnModel, PlattCalibrator


def test_a_model_without_an_evaluation_is_saved_with_a_report_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ChurnModel.evaluation is optional; saving such a model used to fail on ``**None``."""
    monkeypatch.setattr(services, "model_dir", lambda: tmp_path)
    model = ChurnModel(
        features=["usage"],
        booster=None,
        calibrator=PlattCalibrator(),
        medians={"usage": 0.0},
        horizon_days=30,
        version="20250131120000",
    )

    services.risk_model_save(model=model, trained_on=dt.date(2025, 1, 31))

    assert services.risk_report() == {"version": "20250131120000", "trained_on": "2025-01-31"}
    loaded = services.risk_load_model()
    assert loaded is not None
    assert (loaded.version, loaded.evaluation) == ("20250131120000", None)
