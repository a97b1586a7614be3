"""The run presets (presets/*_run.yaml): valid configs with the fold geometry
their comments promise, on the synthetic data and on CHB-MIT's real metadata."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import update_config, validate

from preictal.chbmit.errors import DatasetError
from preictal.splits import SplitParams, loso_parts, patients_of
from preictal.workflow.config import comparison_variants, fusion_params, selected_folds

REPO = Path(__file__).resolve().parents[2]
SCHEMA = str(REPO / "schemas/workflow_config.schema.yaml")
DEFAULT = yaml.safe_load((REPO / "workflow_config.yaml").read_text())
CHBMIT_CASES = [f"chb{i:02d}" for i in range(1, 25)]


def preset(name: str) -> dict:
    config = copy.deepcopy(DEFAULT)
    update_config(config, yaml.safe_load((REPO / f"presets/{name}.yaml").read_text()))
    validate(config, SCHEMA)
    return config


def fold_geometry(config: dict, cases: list[str]) -> set[tuple[int, int, int]]:
    """(train, validation, test) patient counts of every selected loso fold."""
    patients = list(patients_of(cases, config["patients"]))
    split = SplitParams(
        **{k: v for k, v in config["splits"].items() if k not in ("modes", "folds")}
    )
    folds = selected_folds(config["splits"]["folds"], patients, "splits.folds")
    return {
        tuple(len(loso_parts(f, patients, split)[p]) for p in ("train", "val", "test"))
        for f in folds
    }


def test_comparison_variants_merge_into_fusion_and_stay_at_most_eight():
    config = preset("tiny")  # tiny overrides only the dataset size
    for group in ("losses", "sweep"):
        variants = comparison_variants(config["comparisons"][group], group)
        assert len(variants) == len(config["comparisons"][group])
        for overrides in variants.values():
            merged = fusion_params(config["fusion"], overrides)
            assert merged["train"]["epochs"] == DEFAULT["fusion"]["train"]["epochs"]
            assert merged["net"]["n_blocks"] == DEFAULT["fusion"]["net"]["n_blocks"]
            assert "gpus" not in merged and "device" not in merged
            assert overrides["train"].items() <= merged["train"].items()
    nine = copy.deepcopy(config)
    nine["comparisons"]["sweep"] = [{"name": f"v{i}"} for i in range(9)]
    with pytest.raises(WorkflowError):
        validate(nine, SCHEMA)
    twice = [{"name": "a", "train": {"loss": "bce"}}, {"name": "a"}]
    with pytest.raises(DatasetError, match="'a' is listed twice"):
        comparison_variants(twice, "comparisons.sweep")


def test_small_run():
    config = preset("small_run")
    assert fold_geometry(config, config["synthetic"]["cases"]) == {(3, 1, 1)}
    assert config["fusion"]["train"]["epochs"] == 10
    assert config["fusion"]["net"]["width"] < DEFAULT["fusion"]["net"]["width"]


def test_medium_and_full_run_on_chbmit_cases(chbmit_meta):
    present = sorted(p.name[:5] for p in chbmit_meta.glob("chb*-summary.txt"))
    assert present == CHBMIT_CASES
    medium = preset("medium_run")
    assert fold_geometry(medium, medium["cases"]) == {(12, 3, 1)}
    assert len(medium["splits"]["folds"]) == 3 and medium["fusion"]["train"]["epochs"] == 25
    full = preset("full_run")
    assert fold_geometry(full, CHBMIT_CASES) == {(19, 3, 1)}  # 23 patients: chb21 is chb01
    assert 30 <= full["fusion"]["train"]["epochs"] <= 50
    assert full["fusion"]["gpus"] == 1 and full["fusion"]["train"]["amp"] == "auto"


def test_unknown_fold_is_a_clear_error():
    from preictal.chbmit.errors import DatasetError

    with pytest.raises(DatasetError, match=r"splits.folds: \['chb09'\] are not patients"):
        selected_folds(["chb01", "chb09"], ["chb01", "chb02"], "splits.folds")


def test_easy_preset_turns_every_confound_off_in_its_own_folder():
    """The default is the realistic data (every confound on); presets/easy.yaml is the former
    default, a clear planted change and nothing else, in a folder of its own."""
    from preictal.synthetic.plan import SyntheticSpec

    default = SyntheticSpec.from_config(DEFAULT["synthetic"], DEFAULT["patients"])
    assert set(default.confounds) == {"heterogeneity", "decoys", "vigilance"}
    assert all(default.confounds.values())
    config = preset("easy")
    spec = SyntheticSpec.from_config(config["synthetic"], config["patients"])
    assert set(spec.confounds) == set(default.confounds) and not any(spec.confounds.values())
    assert (spec.effect_size, spec.seizures_per_case) == (1.0, 6)
    assert config["data_root"] == config["synthetic"]["out_dir"] != DEFAULT["synthetic"]["out_dir"]


@pytest.mark.parametrize(
    ("name", "sop_min", "sph_sec", "interictal_min", "lead_min"),
    [
        ("protocol_seed", 9.5, 30, 30, 30),
        ("protocol_truong2018", 30, 300, 240, 35),
        ("protocol_kaggle_aes2014", 60, 300, 240, 240),
        ("protocol_kaggle_melbourne2016", 60, 300, 240, 240),
        ("protocol_maiwald_schelter", 9.5, 30, 30, 30),
    ],
)
def test_protocol_presets_state_their_studies_definitions(
    name, sop_min, sph_sec, interictal_min, lead_min
):
    """The protocol presets give the SOP, SPH, interictal distance and lead-seizure rule of the
    table in docs/EVALUATION.md#protocol-presets (each run end to end in test_workflow.py)."""
    from preictal.labels import LabelParams, protocol_columns

    config = preset(name)
    protocol = protocol_columns(LabelParams(**config["labels"]))
    assert (protocol["sop_min"], protocol["sph_sec"]) == (sop_min, sph_sec)
    assert protocol["interictal_buffer_min"] == interictal_min
    assert f"within {lead_min} min before the onset" in protocol["lead_seizure_rule"]
    assert name in (REPO / "docs/EVALUATION.md").read_text()
    if name == "protocol_maiwald_schelter":  # FPR_max 0.15 per hour among the operating points
        assert 0.15 in config["evaluation"]["fah_targets"]


def test_fusion_budget_preset_trains_longer_and_stops_on_the_alarm_metric():
    from preictal.models.fusion.fit import FusionParams
    from preictal.models.fusion.loop import TrainParams

    config = preset("fusion_budget")
    params = FusionParams(**fusion_params(config["fusion"]))
    train = TrainParams(**params.train)
    default = TrainParams(**fusion_params(DEFAULT["fusion"])["train"])
    assert train.epochs > 3 * default.epochs and train.early_stopping == "fah"
    assert params.checkpoint == "fah"
    # Only the budget changes: the model and its inputs are the default's.
    assert train.batch_size == default.batch_size and params.net == DEFAULT["fusion"]["net"]


def test_fusion_ablation_covers_each_branch_with_relative_and_absolute_inputs():
    """comparisons.ablation: the spectrogram branch alone, the feature branch alone and both,
    each with relative and with absolute inputs, on otherwise the default FusionNet; and the
    fused relative model with 5 minutes of context, as a trailing mean and as a GRU."""
    from preictal.models.fusion.fit import FusionParams

    variants = comparison_variants(DEFAULT["comparisons"]["ablation"], "ablation")
    cells, contexts = set(), []
    for overrides in variants.values():
        params = FusionParams(**fusion_params(DEFAULT["fusion"], overrides))
        assert params.train == DEFAULT["fusion"]["train"] and params.net == DEFAULT["fusion"]["net"]
        if params.context_min is None and params.sequence is None:
            cells.add((params.spectrogram, params.features))
        else:  # minutes of context, on the fused relative model
            assert (params.spectrogram, params.features) == ("relative", "relative")
            contexts.append("trailing_mean" if params.context_min else "gru")
    assert sorted(contexts) == ["gru", "trailing_mean"]
    relative_absolute = {("relative", "relative"), ("absolute", "absolute")}
    alone = {(m, "none") for m in ("relative", "absolute")} | {
        ("none", m) for m in ("relative", "absolute")
    }
    assert cells == relative_absolute | alone
