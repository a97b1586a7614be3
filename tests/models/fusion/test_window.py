"""FusionNet's parse-time helpers: the input window and a job's threads."""

import pytest

from preictal.models.fusion.window import fusion_job_threads, fusion_torch_threads


@pytest.mark.parametrize(("workers", "claimed"), [(0, 1), (1, 2), (6, 7)])
def test_a_job_claims_a_thread_per_loader_worker(workers, claimed):
    assert fusion_job_threads({"num_workers": workers}) == claimed
    # what the job then gets when Snakemake gives it all it claimed: one for torch
    assert fusion_torch_threads(claimed, {"num_workers": workers}) == 1


def test_the_default_config_claims_one_thread():
    assert fusion_job_threads({"epochs": 3}) == 1
    assert fusion_torch_threads(1, {"epochs": 3}) == 1


def test_torch_keeps_at_least_one_thread_when_the_job_was_scaled_down():
    # --cores 2 scales a job that claimed 7 threads down to 2: workers still run, torch gets 1
    assert fusion_torch_threads(2, {"num_workers": 6}) == 1
    # more cores than claimed (a job given 4 with no workers) all go to torch
    assert fusion_torch_threads(4, {}) == 4
