"""Markdown report (with PNG figures beside it) built from the results store."""

import datetime
import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import _figures
from ..baselines import list_peers
from ._markdown import fmt as _fmt, markdown_table as _markdown_table, pvalue as _pvalue
from ._models import QCLMIX_VARIANTS
from ._probability_report import per_dataset_lines, probability_section, with_probability_columns
from ._stats import (
    METRICS,
    TIE,
    complete_block,
    friedman_test,
    global_friedman,
    holm,
    metrics_as_blocks_friedman,
    nemenyi,
    rank_table,
    score_table,
)
from ._store import KEY_COLUMNS, ResultStore
from ._suites import PAPER_REPORTED_F1

CONTROL = "qclmix"
#: QCLMix in the paper's configuration: ranked and tested with the baselines too.
PAPER_CONTROL = "qclmix_paper"

_PROTOCOL_TEXT = {
    "paper": (
        "one stratified 80/20 split, seed 42 (paper §4.2.1); baselines tuned by 3-fold "
        "GridSearchCV (macro-F1) on the training part; QCLMix with its defaults, checkpoint "
        "chosen on a validation split of the training part"
    ),
    "cv": (
        "stratified k-fold repeated over several seeds; imputer, scaler and samplers fitted inside "
        "the pipeline on each training part; baselines tuned by an inner GridSearchCV on the "
        "training part; mean ± std over all folds and seeds"
    ),
}


def _signed(value, digits=3):
    """``value`` with its sign, zero when it rounds to zero (never "-0.000")."""
    value = round(value, digits) + 0.0  # -0.0 + 0.0 is 0.0; NaN and ±inf pass through
    return ("+" if value > 0 else "") + _fmt(value, digits)


def _test_row(label, result):
    """A row of the Friedman / Iman-Davenport table."""
    return [
        label,
        result.n_datasets,
        result.n_models,
        _fmt(result.statistic, 2),
        _pvalue(result.pvalue),
        _fmt(result.iman_davenport, 2),
        _pvalue(result.iman_davenport_pvalue),
    ]


def _is_baseline(model):
    return model not in QCLMIX_VARIANTS


def _main_models(table):
    """The baselines, QCLMix and QCLMix as in the paper: the models that are ranked and tested."""
    return table[[m for m in table.columns if _is_baseline(m) or m in (CONTROL, PAPER_CONTROL)]]


def _every_dataset_ranks(table, block):
    """maF1 ranks over every dataset, of the models with a result on each, when ``block`` (the
    datasets × models of the tests) has left datasets out."""
    every = table.dropna(axis=1, how="any")
    if len(block) == len(table) or every.shape[1] < 3:
        return []
    result = friedman_test(every)
    ranks = result.average_ranks
    rows = [[m, _fmt(ranks[m], 2), _fmt(every[m].mean())] for m in ranks.index]
    return [
        f"\nOn all {len(every)} datasets, the {every.shape[1]} models with a result on every "
        f"one (maF1 (sklearn) ranks, 1 = best; Friedman p = {_pvalue(result.pvalue)}, "
        f"Iman–Davenport p = {_pvalue(result.iman_davenport_pvalue)}):\n",
        _markdown_table(["model", "avg maF1 rank", "mean maF1"], rows),
        "",
    ]


def _per_dataset_section(ok, dataset, info):
    lines = []
    header = f"#### {dataset}"
    if info is not None:
        header += (
            f" ({info['task']}, n={info['n_samples']}, d={info['n_features']}, "
            f"classes={info['n_classes']}, IR={_fmt(info['imbalance_ratio'], 1)})"
        )
    lines.append(header)
    part = ok[ok["dataset"] == dataset]
    stats = part.groupby("model")[[*METRICS, "fit_time", "predict_time"]].agg(
        ["mean", "std", "count"]
    )
    order = stats[("f1_macro", "mean")].sort_values(ascending=False).index
    rows = []
    for model in order:
        count = int(stats.loc[model, ("f1_macro", "count")])
        cells = [f"**{model}**" if model == CONTROL else model, count]
        for column in [*METRICS, "fit_time", "predict_time"]:
            mean, std = stats.loc[model, (column, "mean")], stats.loc[model, (column, "std")]
            digits = 2 if column.endswith("_time") else 3
            cells.append(_fmt(mean, digits) + (f" ± {_fmt(std, digits)}" if count > 1 else ""))
        rows.append(cells)
    labels = ["model", "runs", *METRICS.values(), "fit s", "predict s"]
    lines.append(_markdown_table(labels, rows))
    lines += per_dataset_lines(part, order, CONTROL)
    return lines


def _summary_section(table, std, tasks, rivals=None, rival_label="best baseline"):
    """QCLMix against the best of ``rivals`` (default: every baseline) per dataset."""
    rows, improvement = [], {}

    def cell(dataset, model):
        value = _fmt(table.loc[dataset, model]) if model in table.columns else "—"
        spread = std.loc[dataset, model] if model in std.columns else np.nan
        return value + (f" ± {_fmt(spread)}" if np.isfinite(spread) else "")

    baselines = [m for m in table.columns if _is_baseline(m) and (rivals is None or m in rivals)]
    for dataset in table.index:
        ours = table.loc[dataset].get(CONTROL, np.nan)
        best_name, best = "—", np.nan
        if baselines and table.loc[dataset, baselines].notna().any():
            best_name = table.loc[dataset, baselines].idxmax()
            best = table.loc[dataset, best_name]
        delta = ours - best
        if np.isfinite(delta):
            improvement[dataset] = delta
        paper = PAPER_REPORTED_F1.get(dataset)
        rows.append(
            [
                dataset,
                tasks.get(dataset, "?"),
                _fmt(paper, 2) if paper is not None else "—",
                *([cell(dataset, PAPER_CONTROL)] if PAPER_CONTROL in table.columns else []),
                cell(dataset, CONTROL),
                best_name,
                cell(dataset, best_name) if best_name != "—" else "—",
                _signed(delta),
            ]
        )
    header = [
        "dataset",
        "task",
        "paper's QCL-MixNet maF1 (test-selected)",
        *([f"our {PAPER_CONTROL} maF1"] if PAPER_CONTROL in table.columns else []),
        "our qclmix maF1",
        rival_label,
        "its maF1",
        "Δ (ours − best)",
    ]
    improvement = pd.Series(improvement, dtype=float)
    if len(improvement) > 1:
        wins, losses = int((improvement > TIE).sum()), int((improvement < -TIE).sum())
        means = [_fmt(table[m].mean()) if m in table.columns else "—"
                 for m in ([PAPER_CONTROL] if PAPER_CONTROL in table.columns else []) + [CONTROL]]
        rows.append(["**mean**", f"{wins} wins, {len(improvement) - wins - losses} ties "
                     f"(Δ within ±{TIE}), {losses} losses", "", *means, "", "",
                     _signed(improvement.mean())])
    return _markdown_table(header, rows), improvement


def _tests_section(ok, protocol, out, prefix, posthoc, alpha, figures):
    lines = []
    tables = {metric: _main_models(score_table(ok, metric, protocol)) for metric in METRICS}
    full_f1 = tables["f1_macro"]
    block, notes = complete_block(full_f1)
    lines += [f"- {note}" for note in notes]
    if block.shape[0] < 2 or block.shape[1] < 3:
        lines.append(
            f"Not enough complete results for the tests ({block.shape[0]} dataset(s) × "
            f"{block.shape[1]} model(s); they need at least 2 × 3)."
        )
        return lines
    tables = {metric: t.loc[block.index, block.columns] for metric, t in tables.items()}
    rank_means = pd.DataFrame({METRICS[m]: rank_table(t).mean() for m, t in tables.items()})
    four_labels = [METRICS[m] for m in ("accuracy", "precision_macro", "recall_macro", "f1_macro")]
    rank_means["averaged over the 4 paper metrics"] = rank_means[four_labels].mean(axis=1)
    rank_means = rank_means.sort_values("averaged over the 4 paper metrics")
    lines.append(f"Average ranks over {block.shape[0]} datasets (1 = best):\n")
    lines.append(
        _markdown_table(
            ["model", *rank_means.columns],
            [[m, *(_fmt(v, 2) for v in rank_means.loc[m])] for m in rank_means.index],
        )
    )
    lines += _every_dataset_ranks(full_f1, block)
    rows = []
    for metric, table in tables.items():
        rows.append(_test_row(METRICS[metric], friedman_test(table)))
    # the paper's four metrics: the two F1 definitions together would count F1 twice
    four = {m: tables[m] for m in ("accuracy", "precision_macro", "recall_macro", "f1_macro")}
    rows.append(_test_row("global (metric-averaged ranks)", global_friedman(four)))
    rows.append(
        _test_row(
            "global, the paper's variant (the 4 metrics as blocks)",
            metrics_as_blocks_friedman(four),
        )
    )
    lines.append(
        "\nFriedman test (scipy.stats.friedmanchisquare) with the Iman–Davenport correction. "
        "N = datasets. The global test ranks the models on each dataset by their ranks averaged "
        "over accuracy, maP, maR and maF1 (sklearn). The paper's own global test (§5.3.2) instead "
        "treats these 4 metrics as the N blocks; it is shown for comparison only, since the "
        "metrics come from the same predictions and are not independent measurements.\n"
    )
    lines.append(_markdown_table(["metric", "N", "k", "χ²_F", "p", "F_ID", "p (F_ID)"], rows))
    f1 = friedman_test(tables["f1_macro"])
    cd, _ = nemenyi(f1.average_ranks, f1.n_datasets, alpha)
    cd_png = f"{prefix}cd_diagram.png"
    _figures.cd_figure(
        f1.average_ranks,
        cd,
        out / cd_png,
        title=f"maF1 (sklearn) ranks, Nemenyi CD at α={alpha} ({protocol} protocol)",
    )
    figures.append(cd_png)
    lines.append(
        f"\nPost-hoc on maF1 (sklearn) ranks, α = {alpha}. Nemenyi critical difference "
        f"CD = {cd:.3f} (k = {f1.n_models}, N = {f1.n_datasets}).\n"
    )
    lines.append(f"![critical-difference diagram]({cd_png})\n")
    if CONTROL in f1.average_ranks.index:
        if posthoc == "holm":
            table = holm(f1.average_ranks, f1.n_datasets, CONTROL, alpha)
            lines.append(
                f"Holm test of every model against {CONTROL} "
                f"(average rank {f1.average_ranks[CONTROL]:.2f}):\n"
            )
            rows = [
                [
                    m,
                    _fmt(r.average_rank, 2),
                    _fmt(r.z, 2),
                    _pvalue(r.p),
                    _pvalue(r.p_holm),
                    "yes" if r.significant else "no",
                ]
                for m, r in table.iterrows()
            ]
            lines.append(
                _markdown_table(["model", "avg rank", "z", "p", "p (Holm)", "significant"], rows)
            )
        else:
            _, pvalues = nemenyi(f1.average_ranks, f1.n_datasets, alpha)
            others = [m for m in f1.average_ranks.index if m != CONTROL]
            lines.append(
                f"Nemenyi p-values of {CONTROL} (average rank {f1.average_ranks[CONTROL]:.2f}) "
                "against every other model:\n"
            )
            rows = [
                [
                    m,
                    _fmt(f1.average_ranks[m], 2),
                    _pvalue(pvalues.loc[CONTROL, m]),
                    "yes" if pvalues.loc[CONTROL, m] < alpha else "no",
                ]
                for m in others
            ]
            lines.append(_markdown_table(["model", "avg rank", "p (Nemenyi)", "significant"], rows))
    return lines


def build_report(
    store,
    out_dir,
    *,
    protocols=None,
    suites=None,
    posthoc="nemenyi",
    alpha=0.05,
    tsne_datasets=None,
    tsne=True,
):
    """Write ``report.md`` and its PNG figures into ``out_dir``; return the report's path.

    Parameters
    ----------
    store : ResultStore or path
    out_dir : path
    protocols : list of str, default=None
        Protocols to report (default: every protocol in the store).
    suites : list of str, default=None
        Only results stored by these suites (default: all). When one job (dataset, model, protocol,
        fold, seed) was run with several settings (e.g. by the quick and the paper suite), only its
        most recent attempt is reported, never an average of different settings; when that attempt
        failed, timed out or was skipped, the job is listed among the jobs without a result.
    posthoc : {"nemenyi", "holm"}, default="nemenyi"
        Post-hoc test against QCLMix shown beside the Nemenyi critical difference.
    tsne_datasets : list of str, default=None
        Datasets of the t-SNE figure (default: one binary and one multi-class dataset with a stored
        embedding).
    tsne : bool, default=True
        Draw the t-SNE figure (the slowest part of the report).
    """
    if posthoc not in ("nemenyi", "holm"):
        raise ValueError(f"posthoc must be 'nemenyi' or 'holm', got {posthoc!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    own_store = not isinstance(store, ResultStore)
    if own_store:
        if not Path(store).exists():
            raise FileNotFoundError(f"no results store at {store}: run `qclmix-bench run` first")
        store = ResultStore(store, read_only=True)  # a report never writes to the store
    try:
        return _build(store, Path(out_dir), protocols, suites, posthoc, alpha, tsne_datasets, tsne)
    finally:
        if own_store:
            store.close()


_JOB = ["dataset", "model", "protocol", "fold", "seed"]


def _latest(results):
    """One row per job, its latest attempt, and the number dropped.

    A job re-run with other settings is reported as it ran last: a failure or a timeout of the new
    settings is listed among the jobs without a result, never hidden by an older success. A skip
    (an optional dependency missing where the job last ran) hides nothing: the latest other
    attempt counts, whatever its settings; a job only ever skipped is listed as skipped.
    """
    # row_id: insertion order, breaks ties of finishes within one second
    ranked = results.sort_values(["finished_at", "row_id"], na_position="first")
    skipped = ranked["status"] == "skipped"
    ran = ranked[~skipped].drop_duplicates(_JOB, keep="last")
    only_skipped = ranked[skipped].drop_duplicates(_JOB, keep="last")
    ran_jobs = pd.MultiIndex.from_frame(ran[_JOB])
    only_skipped = only_skipped[~pd.MultiIndex.from_frame(only_skipped[_JOB]).isin(ran_jobs)]
    latest = pd.concat([ran, only_skipped])
    return latest.sort_values(_JOB).reset_index(drop=True), len(results) - len(latest)


def _build(store, out, protocols, suites, posthoc, alpha, tsne_datasets, tsne):
    out.mkdir(parents=True, exist_ok=True)
    # a store written before the threshold-free metrics existed: missing there, never 0
    results = with_probability_columns(store.results())
    if suites:
        results = results[results["suite"].isin(suites)]
    results, superseded = _latest(results)
    info = store.datasets()
    tasks = info["task"].to_dict() if not info.empty else {}
    ok = results[results["status"] == "ok"]
    available = [p for p in ("paper", "cv") if p in set(results["protocol"])] + sorted(
        set(results["protocol"]) - {"paper", "cv"}
    )
    protocols = [p for p in (protocols or available) if p in available]
    counts = results["status"].value_counts().to_dict()
    lines = [
        "# QCLMix benchmark report",
        "",
        f"Generated {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC} "
        f"from `{store.path}`: "
        f"{len(results)} stored job(s) ("
        + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
        + ").",
        "",
        "Metrics: accuracy, macro precision (maP), macro recall (maR), **maF1 (sklearn)** = "
        "`f1_score(average='macro')`, the mean of the per-class F1 scores, and **maF1 (paper)** = "
        "the paper's definition, the harmonic mean of maP and maR. Unless stated otherwise, "
        "macro-F1 below means maF1 (sklearn). The paper's own numbers for QCL-MixNet were "
        "obtained by choosing the checkpoint on the test set; ours never look at test "
        "labels before scoring.",
    ]
    if superseded:
        lines += [
            "",
            f"{superseded} other attempt(s) of the same jobs are not reported (one run per "
            "dataset, model, protocol, fold and seed: the most recent attempt, listed below among "
            "the jobs without a result when it failed; a skip for a missing optional dependency "
            "counts only where the job never ran).",
        ]
    versions = results.loc[results["status"] == "ok", "versions"].dropna()
    if not versions.empty:
        lines += [
            "",
            "Library versions (last successful job): "
            + ", ".join(f"{k} {v}" for k, v in json.loads(versions.iloc[-1]).items()),
        ]
    if not protocols:
        lines += ["", "No results stored yet."]
    figures = []
    for protocol in protocols:
        prefix = f"{protocol}_"
        done = ok[ok["protocol"] == protocol]
        lines += ["", f"## Protocol `{protocol}`", "", _PROTOCOL_TEXT.get(protocol, ""), ""]
        suites = sorted(results.loc[results["protocol"] == protocol, "suite"].dropna().unique())
        lines.append(f"Suite(s): {', '.join(suites)}. Successful jobs: {len(done)}.")
        if done.empty:
            continue
        table = score_table(done, "f1_macro")
        lines += ["", "### QCLMix against the best baseline (macro-F1)", ""]
        std = done.pivot_table(index="dataset", columns="model", values="f1_macro", aggfunc="std")
        std = std.reindex(index=table.index, columns=table.columns)
        summary, improvement = _summary_section(table, std, tasks)
        lines.append(summary)
        if not improvement.empty:
            name = f"{prefix}fig2_improvement.png"
            _figures.improvement_figure(improvement, tasks, out / name)
            figures.append(name)
            lines += ["", f"![improvement over the best baseline]({name})"]
        peers = [m for m in table.columns if m in list_peers()]
        if peers and len(peers) < sum(_is_baseline(m) for m in table.columns):
            lines += ["", "### QCLMix against the best modern peer (macro-F1)", "",
                      f"The best of {', '.join(peers)} on each dataset.", ""]
            lines.append(_summary_section(table, std, tasks, peers, "best peer")[0])
        lines += _settings_section(done)
        lines += _matrix_section(table, tasks)
        lines += ["", "### Ranks and statistical tests (QCLMix and the baselines)", ""]
        lines += _tests_section(done, protocol, out, prefix, posthoc, alpha, figures)
        main = _main_models(table)
        lines += probability_section(done, list(main.columns), CONTROL, out, prefix, figures)
        if main.shape[1] > 1:
            name = f"{prefix}fig3_boxplots.png"
            _figures.box_figure(main, tasks, out / name)
            figures.append(name)
            lines += [
                "",
                "### macro-F1 per model across datasets",
                "",
                f"![macro-F1 box plots]({name})",
            ]
        variants = [v for v in QCLMIX_VARIANTS if v in table.columns]
        if len(variants) > 1:
            ablation = table[variants].dropna(how="all")
            lines += ["", "### Ablations (macro-F1)", ""]
            rows = [[d, *(_fmt(ablation.loc[d, v]) for v in variants)] for d in ablation.index]
            complete = ablation.dropna()  # a mean over other datasets would not compare
            rows.append([f"**mean** over the {len(complete)} datasets with every variant",
                         *(_fmt(complete[v].mean()) for v in variants)])
            lines.append(_markdown_table(["dataset", *variants], rows))
            name = f"{prefix}fig5_ablation.png"
            _figures.ablation_figure(ablation, tasks, out / name)
            figures.append(name)
            lines += ["", f"![ablations]({name})"]
        if tsne:
            keys = set(
                done[["dataset", "model", "protocol", "fold", "seed", "param_hash"]].itertuples(
                    index=False, name=None
                )
            )
            lines += _tsne_section(
                store, protocol, keys, tasks, tsne_datasets, out, prefix, figures
            )
        lines += ["", "### Results per dataset", ""]
        for dataset in sorted(done["dataset"].unique()):
            lines += _per_dataset_section(
                done, dataset, info.loc[dataset] if dataset in info.index else None
            )
            lines.append("")
    problems = results[results["status"] != "ok"]
    if not problems.empty:
        lines += ["", "## Jobs without a result", ""]
        rows = [
            [
                r.dataset,
                r.model,
                r.protocol,
                r.fold,
                r.seed,
                r.status,
                ((r.error or "").strip().splitlines() or [""])[0][:160].replace("|", "\\|"),
            ]
            for r in problems.itertuples()
        ]
        lines.append(
            _markdown_table(
                ["dataset", "model", "protocol", "fold", "seed", "status", "error"], rows
            )
        )
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _settings_section(done):
    """What each model ran with: changed parameters (e.g. fewer epochs) and the size of its grid."""
    rows = {}
    for suite, model, params in (
        done[["suite", "model", "params"]].drop_duplicates().itertuples(index=False)
    ):
        config = json.loads(params) if params else {}
        grid = config.get("grid") or {}
        size = int(np.prod([len(v) for v in grid.values()])) if grid else 0
        changed = (
            ", ".join(f"{k}={v}" for k, v in sorted((config.get("params") or {}).items()))
            or "defaults"
        )
        options = ", ".join(f"{k}={v}" for k, v in sorted((config.get("protocol") or {}).items()))
        rows[(suite, model)] = [suite, model, changed, size or "not tuned", options]
    lines = ["", "### Settings", ""]
    lines.append(
        _markdown_table(
            ["suite", "model", "changed parameters", "grid points", "protocol options"],
            [rows[k] for k in sorted(rows)],
        )
    )
    return lines


def _matrix_section(table, tasks):
    """Paper-style tables: macro-F1 of every model (rows) on every dataset (columns), per task."""
    lines = []
    for task, title in (("binary", "binary datasets"), ("multiclass", "multi-class datasets")):
        names = [d for d in table.index if tasks.get(d, "multiclass") == task]
        if not names:
            continue
        part = table.loc[names]
        order = part.mean().sort_values(ascending=False).index
        lines += ["", f"### macro-F1 on the {title} (mean over runs; best per dataset in bold)", ""]
        rows = []
        for model in order:
            cells = []
            for dataset in names:
                value = part.loc[dataset, model]
                text = _fmt(value)
                cells.append(
                    f"**{text}**"
                    if np.isfinite(value) and value == part.loc[dataset].max()
                    else text
                )
            rows.append(
                [f"**{model}**" if model == CONTROL else model, *cells, _fmt(part[model].mean())]
            )
        lines.append(_markdown_table(["model", *names, "mean"], rows))
    return lines


def _tsne_section(store, protocol, keys, tasks, wanted, out, prefix, figures):
    records = [
        r
        for r in store.embeddings(model=CONTROL)
        if r["protocol"] == protocol and tuple(r[c] for c in KEY_COLUMNS) in keys
    ]
    by_dataset = {}
    for record in records:
        by_dataset.setdefault(record["dataset"], record)
    if wanted:
        chosen = [by_dataset[d] for d in wanted if d in by_dataset]
    else:
        chosen = []
        for task in ("binary", "multiclass"):
            for dataset, record in by_dataset.items():
                if tasks.get(dataset, "multiclass") == task:
                    chosen.append(record)
                    break
        chosen = chosen or list(by_dataset.values())[:2]
    if not chosen:
        return []
    # the store keeps label codes; show the class names
    info = store.datasets()
    for record in chosen:
        classes = info["classes"].get(record["dataset"]) if "classes" in info else None
        if isinstance(classes, str):
            names = np.asarray(json.loads(classes))
            if record["labels"].dtype.kind in "iu" and record["labels"].max() < len(names):
                record["labels"] = names[record["labels"]]
    name = f"{prefix}fig4_tsne.png"
    _figures.tsne_figure(chosen, out / name)
    figures.append(name)
    return ["", "### t-SNE of QCLMix's 8-d embedding (test part)", "", f"![t-SNE]({name})"]
