"""Training a plan on a local two-worker Ray cluster (127.0.0.1 only): each network once, equal to a local training, a killed
worker's network resumed, a zoo the workers cannot write refused by name."""
import os

import pytest
import torch

ray = pytest.importorskip("ray")

from defective_cnn import plan  # noqa: E402
from defective_cnn.zoo import is_stored, model_config  # noqa: E402

SMALL = dict(n_train=512, n_test=128)  # smoke networks, smaller still: the whole file runs in a few minutes on 2 cores


@pytest.fixture(scope="module")
def cluster():
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # with the node address below, everything stays on 127.0.0.1
    ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def networks():
    return {name: model_config(c.arch, c.defect, dataset=c.dataset, profile="smoke", seed=c.seed, overrides=SMALL)
            for name, c in plan.section_networks("noise", dict(profile="smoke", p=[0.5, 0.3, 0.1])).items()}


@pytest.fixture(scope="module")
def local_zoo(networks, tmp_path_factory):
    zoo = tmp_path_factory.mktemp("local_zoo")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the ray jobs below run with --cpus-per-job 1, hence one thread
    try:
        assert all(r["error"] is None for r in plan.train_plan(networks, "local", zoo_dir=zoo, cpus_per_job=1))
    finally:
        torch.set_num_threads(threads)
    return zoo


def weights(zoo, config):
    return torch.load(zoo / config.name / "checkpoint.pt", map_location="cpu", weights_only=False)["model"]


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_plan_on_two_workers(cluster, networks, local_zoo, tmp_path):
    assert len(networks) >= 4
    lines = []
    results = plan.train_plan(networks, "ray", zoo_dir=tmp_path, cpus_per_job=1, log=lines.append)
    assert [r["error"] for r in results] == [None] * len(networks)
    assert all(r["trained_now"] for r in results) and len({r["where"] for r in results}) >= 2  # two worker processes
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == sorted(c.name for c in networks.values())
    for config in networks.values():
        assert same_weights(weights(tmp_path, config), weights(local_zoo, config)), config.name
    assert lines[1].startswith("[1/4] ") and "test accuracy" in lines[1] and "node " in lines[1]
    assert lines[-1].startswith("done in") and f"{len(networks)} trained, 0 loaded (trained by another process meanwhile), 0 already in the zoo, 0 failed" in lines[-1]
    assert plan.train_plan(networks, "ray", zoo_dir=tmp_path, log=lines.append) == []  # nothing left to train


def test_killed_worker_resumes(cluster, networks, local_zoo, tmp_path):
    config = next(iter(networks.values()))
    assert config.train_profile().epochs == 2
    marker = str(tmp_path / "died-once")

    def die_after_first_epoch(epoch, row):  # the first attempt's worker process exits after epoch 1's checkpoint
        if epoch == 1 and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)

    zoo = tmp_path / "zoo"
    results = plan.train_plan({"first": config}, "ray", zoo_dir=zoo, cpus_per_job=1, on_epoch_end=die_after_first_epoch)
    assert os.path.exists(marker) and [r["error"] for r in results] == [None]
    assert is_stored(config, zoo)
    assert same_weights(weights(zoo, config), weights(local_zoo, config))


def test_unwritable_zoo_is_named(cluster, networks, tmp_path):
    blocked = tmp_path / "a_file"
    blocked.write_text("not a folder")
    with pytest.raises(PermissionError, match=f"cannot write the zoo folder {blocked / 'zoo'}"):
        plan.train_plan(networks, "ray", zoo_dir=blocked / "zoo")
    job = ray.remote(plan._ray_job)  # a worker that cannot write the zoo (the driver could)
    config = next(iter(networks.values()))
    with pytest.raises(Exception, match="cannot write the zoo folder .*a_file/zoo.*shared storage"):
        ray.get(job.remote(config.to_dict(), str(blocked / "zoo"), 1, None, None))
