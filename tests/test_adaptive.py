"An attacker who adapts (issue 34): a substitute trained on a target's labels agrees with it more than an independently trained network, Square stays within ε and its query budget, the ε sweep rises, the claims rows read the section's CSVs, and the plan prices the substitutes."
import re
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

from defective_cnn import adaptive, claims
from defective_cnn.plan import substitute_costs
from defective_cnn.cli import main
from defective_cnn import settings  # not `import tested_config`: pytest would collect it as a test
from defective_cnn.zoo import get_model, model_config, smoke_zoo_dir
from fake_runs import write_run, write_runs_file

pytestmark = pytest.mark.usefixtures("one_thread")
REPO = Path(__file__).resolve().parents[1]


def smoke_network(row: str | None = None):
    "A smoke network of the shared smoke zoo: Table 3's source (row None, seed 0) or the target of a paper row (seed 1)."
    config = (model_config("resnet18", dataset="fashion-mnist", profile="smoke", seed=0) if row is None
              else settings.tested_config(row, dataset="fashion-mnist", profile="smoke", seed=0))
    return get_model(config, zoo_dir=smoke_zoo_dir(), device="cpu")


@pytest.fixture(scope="module")
def parts():
    return adaptive.attacker_data("fashion-mnist", "smoke", n_eval=48, n_seed=20, n_held_out=150, mixed_share=0.5)


def test_a_substitute_on_the_targets_labels_agrees_with_it_more_than_an_independent_network(parts):
    target = smoke_network("0.1-Bottom")
    images, true_labels = parts["mixed"]
    oracle = adaptive.LabelOracle(target)
    queried = oracle(images)
    assert oracle.queries == len(images) == 1024 and (queried != true_labels).any()  # the target's labels are not the truth
    common = dict(dataset="fashion-mnist", profile="smoke", epochs=3, seed=7, augment=parts["augment"])
    substitute, _ = adaptive.train_substitute(images, queried, **common)
    independent, _ = adaptive.train_substitute(images, true_labels, **common)  # same images, epochs and seed: the true labels instead
    held_out = parts["held_out"][0]
    ours, theirs = adaptive.agreement(substitute, target, held_out), adaptive.agreement(independent, target, held_out)
    assert ours > theirs, (ours, theirs)


def test_papernot_spends_n_seed_times_two_to_the_rounds_queries(parts):
    target = smoke_network("Standard CNN")
    oracle = adaptive.LabelOracle(target, budget=20 * 2 ** 2)
    _, rounds = adaptive.papernot_substitute(oracle, parts["seed"][0], rounds=2, lam=25.5, dataset="fashion-mnist", profile="smoke", epochs=1)
    assert list(rounds.queries) == [20, 40, 80] and oracle.queries == 80  # exactly the budget: one more query would be refused
    with pytest.raises(ValueError, match="query budget exceeded"):
        oracle(parts["seed"][0][:1])


@pytest.fixture(scope="module")
def toy():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 28 * 28, 10)).eval()
    images = torch.randint(0, 256, (24, 1, 28, 28)).float() / 255
    with torch.no_grad():
        labels = net(images).argmax(1)
    return net, images, labels


@pytest.mark.parametrize("eps,budget", [(4, 7), (16, 40)])
def test_square_respects_eps_and_its_query_budget(toy, eps, budget):
    net, images, labels = toy
    adversarial, each = adaptive.square_attack(net, images, labels, eps=eps, queries=budget, seed=3)
    assert ((adversarial - images).abs().amax() * 255).round() <= eps and each.linf.max() <= eps
    assert ((adversarial * 255) - (adversarial * 255).round()).abs().max() < 1e-4  # 8-bit images, what the target is shown
    assert each.queries.max() <= budget and (each.queries[each.clean_correct] >= 1).all()
    assert (each.queries[each.clean_correct & ~each.fooled] == budget).all()  # an image it never fooled took the whole budget
    with torch.no_grad():
        assert torch.equal(torch.tensor(each.fooled.values), net(adversarial).argmax(1) != labels)  # fooled: the rounded image fools it
    table, _ = adaptive.square_table({"toy": net}, images, labels, eps=eps, queries=budget, seed=3)
    assert table.query_budget.item() == budget and table.max_queries.item() <= budget and table.max_linf.item() <= eps


def test_the_eps_sweep_rises_on_the_standard_network(parts):
    source, target = smoke_network(), smoke_network("Standard CNN")
    images, labels = parts["eval"]
    sweep = adaptive.eps_sweep(source, {"Standard CNN": target}, images[:16], labels[:16], "fashion-mnist")
    assert list(sweep.eps_label.unique()) == ["4", "8", "16", "32", "64", "unbounded"] and (sweep.n_eval > 0).all()
    checks = adaptive.sanity_checks(sweep)
    assert checks.passed.all(), checks  # rising, white-box at least transfer at every ε, 100 % unbounded


def test_claims_rows_read_the_sections_csvs(tmp_path):
    "The adaptive rows of the claims table match the section's CSV layout (source and target names, attack labels) and give the sentence."
    assert claims.ADAPTIVE_REFERENCE == adaptive.REFERENCE_SOURCE
    runs = {}
    for seed in range(3):
        rows = [dict(source_name=source, target_name=target, attack_label=attack, n_eval=200, profile="cpu", seed=seed,
                     success_defense_rate=rate + (0.3 if target == "0.1-Bottom" and source == adaptive.REFERENCE_SOURCE else
                                                  0.05 + 0.05 * seed if target == "0.1-Bottom" else 0))
                for source, rate in ((adaptive.REFERENCE_SOURCE, 0.5), ("Papernot substitute", 0.2), ("mixed substitute", 0.3))
                for target in ("Standard CNN", "0.1-Bottom") for attack in adaptive.ADAPTIVE_ATTACKS]
        square = [dict(target_name=t, attack_label="Square16", success_defense_rate=r, n_eval=90, profile="cpu", seed=seed)
                  for t, r in (("Standard CNN", 0.1), ("0.1-Bottom", 0.5))]
        parameters = dict(profile="cpu", seed=seed)
        runs[write_run(tmp_path, "adaptive", "cpu" if seed == 0 else f"cpu_seed{seed}", parameters, dict(adaptive=rows, square=square))] = parameters
    write_runs_file(tmp_path, "adaptive", runs)
    chosen = [c for c in claims.CLAIMS if c.section == "adaptive"]
    assert len(chosen) == 5
    table = claims.claims_table(tmp_path, claims=chosen, profiles=("cpu",))
    by = table.set_index("claim")
    papernot = by.loc["0.1-Bottom ahead of standard against PGD16 from its own Papernot substitute"]
    assert papernot.cpu_seeds == 3 and [round(v, 6) for v in papernot.cpu_values] == [5.0, 10.0, 15.0]
    assert by.loc["0.1-Bottom ahead of standard against Square (ε 16, within the query budget)"].cpu_mean == pytest.approx(40.0)
    left = by.loc["0.1-Bottom's lead over standard, PGD16: against its own Papernot substitute minus against Table 3's source"]
    assert [round(v, 6) for v in left.cpu_values] == [-25.0, -20.0, -15.0]
    assert all(v.startswith(claims.NO_CLAIM) for v in table.cpu_verdict)  # beyond the paper: not judged against it
    sentence = claims.adaptive_sentence(table, "cpu")
    assert sentence.startswith("Against an adaptive attacker at `cpu` (3 seeds;") and "lead against Table 3's source changes by" in sentence


def test_the_plan_prices_the_substitutes_and_status_lists_the_runs(capsys):
    assert main(["plan", "adaptive", "--device", "cpu-2core"]) == 0
    printed = capsys.readouterr().out
    assert "adaptive/cpu_seed2" in printed and "hours of substitute training on cpu-2core" in printed
    subs = substitute_costs([("adaptive", "cpu", dict(profile="cpu"))], "cpu-2core")
    assert subs[0]["queries"] == 4 * (4800 + 5000) and f"{subs[0]['image_epochs']:,}" in printed
    assert main(["status", "adaptive"]) == 0
    status = capsys.readouterr().out
    assert all(re.search(rf"^adaptive/{run}\s+(current|not run|stale)", status, re.M) for run in ("cpu", "cpu_seed1", "cpu_seed2")), status
