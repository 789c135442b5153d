"""Does `cuda_graphs=True` train the same networks as the eager step? On one GPU, train() of small ResNet-18s on
synthetic CIFAR-shaped data (with a short last batch, a per-step warm-up and a milestone) eagerly and with CUDA
graphs, and compare the weights and metrics; also an adversarially trained one, and a graph run stopped after its
first epoch and resumed. Prints one line per check and exits 1 if any differs.

Run: python tests/benchmarks/check_cuda_graphs.py [--json FILE]   (on the CPU the profile field is ignored: a rehearsal)
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_train import synthetic_data  # noqa: E402

from defective_cnn.records import environment_record  # noqa: E402
from defective_cnn.train import train  # noqa: E402
from defective_cnn.zoo import ModelConfig, build_untrained  # noqa: E402


class Stop(Exception):
    pass


def run(data, device, defect=None, run_dir=None, on_epoch_end=None, **overrides):
    overrides = dict(dict(epochs=2, milestones=(2,), width=0.25, warmup_epochs=0.5, eval_batch_size=1000), **overrides)
    config = ModelConfig("resnet18", defect, dataset="cifar10", profile="paper", overrides=overrides, seed=0)
    profile = config.train_profile()
    model = build_untrained(config, data.image_shape, data.num_classes, data.mean)
    metrics = train(model, data, profile, seed=0, device=device, run_dir=run_dir, on_epoch_end=on_epoch_end)
    return model, metrics


def same(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def max_difference(a, b) -> float:
    sa, sb = a.state_dict(), b.state_dict()
    return max(float((sa[k].double() - sb[k].double()).abs().max()) for k in sa if sa[k].is_floating_point())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--n-images", type=int, default=2000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    data = synthetic_data("cifar10", args.n_images, 500)
    results = dict(environment=environment_record(device), checks={})

    def check(name, a, b, metrics_a, metrics_b):
        ok = same(a, b) and [r["train_loss"] for r in metrics_a] == [r["train_loss"] for r in metrics_b]
        results["checks"][name] = dict(identical=ok, max_weight_difference=max_difference(a, b),
                                       train_loss=[[r["train_loss"] for r in m] for m in (metrics_a, metrics_b)],
                                       seconds=[[r["seconds"] for r in m] for m in (metrics_a, metrics_b)])
        print(f"{name}: {'identical' if ok else 'DIFFERENT'} (max |weight difference| {results['checks'][name]['max_weight_difference']:.3g}; "
              f"train loss {metrics_a[-1]['train_loss']:.6f} vs {metrics_b[-1]['train_loss']:.6f}; epoch seconds "
              f"{metrics_a[-1]['seconds']:.2f} vs {metrics_b[-1]['seconds']:.2f})", flush=True)

    for label, defect, overrides in (("standard", None, {}), ("0.1-Bottom", "0.1-Bottom", {}),
                                     ("adversarial", None, dict(adversarial=True, adv_steps=1, adv_step_size=8.0))):
        try:
            eager, eager_metrics = run(data, device, defect, **overrides)
            graphs, graph_metrics = run(data, device, defect, cuda_graphs=True, **overrides)
            check(f"{label}: eager vs cuda_graphs", eager, graphs, eager_metrics, graph_metrics)
            if label == "standard":
                with tempfile.TemporaryDirectory() as folder:
                    def stop_after_first(epoch, row):
                        if epoch == 1:
                            raise Stop
                    try:
                        run(data, device, run_dir=folder, on_epoch_end=stop_after_first, cuda_graphs=True)
                    except Stop:
                        pass
                    resumed, resumed_metrics = run(data, device, run_dir=folder, cuda_graphs=True)
                check("standard: cuda_graphs stopped after epoch 1 and resumed vs eager", eager, resumed, eager_metrics,
                      resumed_metrics)
        except Exception as error:  # reported; the other checks go on
            results["checks"][label] = dict(identical=False, error=f"{type(error).__name__}: {error}")
            print(f"{label}: FAILED {type(error).__name__}: {str(error)[:400]}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0 if all(c["identical"] for c in results["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
