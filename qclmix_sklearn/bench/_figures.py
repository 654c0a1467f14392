"""The report's figures (paper Figs. 2–5, a critical-difference and a reliability diagram), as PNG.

Figures are built with ``matplotlib.figure.Figure`` (Agg canvas), never through pyplot's global
state, so building a report works headless and does not touch the caller's backend.
"""

import numpy as np
from matplotlib.figure import Figure

_TASKS = (("binary", "binary datasets"), ("multiclass", "multi-class datasets"))


def _panels(n):
    figure = Figure(figsize=(6.5 * n, 4.5), layout="constrained")
    axes = figure.subplots(1, n, squeeze=False)[0]
    return figure, axes


def _split_by_task(index, tasks):
    groups = []
    for task, title in _TASKS:
        names = [
            d for d in index if tasks.get(d, "multiclass" if task == "multiclass" else None) == task
        ]
        if names:
            groups.append((title, names))
    return groups or [("datasets", list(index))]


def improvement_figure(improvement, tasks, path):
    """Fig. 2: QCLMix's macro-F1 minus the best baseline's per dataset (a Series)."""
    groups = _split_by_task(list(improvement.index), tasks)
    figure, axes = _panels(len(groups))
    for axis, (title, names) in zip(axes, groups):
        values = improvement[names].to_numpy(dtype=float)
        colors = ["tab:green" if v >= 0 else "tab:red" for v in values]
        axis.bar(range(len(names)), values, color=colors)
        axis.axhline(0, color="black", linewidth=0.8)
        axis.set_xticks(range(len(names)), names, rotation=45, ha="right")
        axis.set_ylabel("maF1(QCLMix) − maF1(best baseline)")
        axis.set_title(f"Improvement over the best baseline, {title}")
    figure.savefig(path, dpi=120)


def box_figure(table, tasks, path):
    """Fig. 3: each model's macro-F1 across datasets (``table``: datasets × models)."""
    groups = _split_by_task(list(table.index), tasks)
    figure, axes = _panels(len(groups))
    for axis, (title, names) in zip(axes, groups):
        part = table.loc[names]
        order = part.median().sort_values(ascending=False).index
        data = [part[m].dropna().to_numpy() for m in order]
        axis.boxplot(data, showmeans=True)
        axis.set_xticks(range(1, len(order) + 1), order, rotation=60, ha="right")
        axis.set_ylabel("macro-F1")
        axis.set_title(f"macro-F1 across {len(names)} {title}")
    figure.savefig(path, dpi=120)


def tsne_figure(embeddings, path, random_state=0):
    """Fig. 4: t-SNE of QCLMix's 8-d test-set embedding (``embeddings``: list of stored records)."""
    from sklearn.manifold import TSNE

    figure, axes = _panels(len(embeddings))
    for axis, record in zip(axes, embeddings):
        X, labels = record["embedding"], record["labels"]
        if X.shape[1] <= 2:  # nothing to reduce: plot the embedding itself
            points = np.column_stack([X, np.zeros((len(X), 2 - X.shape[1]))])
        else:
            perplexity = float(min(30.0, max(2.0, (len(X) - 1) / 3.0)))
            points = TSNE(
                perplexity=perplexity, init="pca", random_state=random_state
            ).fit_transform(X)
        for label in np.unique(labels):
            mask = labels == label
            axis.scatter(points[mask, 0], points[mask, 1], s=8, label=str(label))
        axis.set_title(f"{record['dataset']} (test part, {record['protocol']} protocol)")
        axis.set_xticks([])
        axis.set_yticks([])
        if len(np.unique(labels)) <= 12:
            axis.legend(title="class", fontsize="small", markerscale=2)
    figure.savefig(path, dpi=120)


def ablation_figure(table, tasks, path):
    """Fig. 5: mean macro-F1 of the full model and its ablations, per task."""
    groups = _split_by_task(list(table.index), tasks)
    figure, axes = _panels(len(groups))
    for axis, (title, names) in zip(axes, groups):
        means = table.loc[names].mean()
        axis.bar(range(len(means)), means.to_numpy(), color="tab:blue")
        for i, value in enumerate(means.to_numpy()):
            axis.text(i, value, f"{value:.3f}", ha="center", va="bottom", fontsize="small")
        axis.set_xticks(range(len(means)), means.index, rotation=20, ha="right")
        axis.set_ylabel("mean macro-F1")
        axis.set_title(f"Ablations, mean of {len(names)} {title}")
    figure.savefig(path, dpi=120)


def cd_figure(average_ranks, cd, path, title="Critical difference diagram"):
    """Critical-difference diagram (Demšar 2006): average ranks, 1 = best, on the left.

    Models joined by a thick bar are not significantly different (their ranks differ by less than
    the critical difference ``cd``).
    """
    ranks = average_ranks.sort_values()
    names, values = list(ranks.index), ranks.to_numpy(dtype=float)
    k = len(names)
    half = (k + 1) // 2
    # cliques: maximal runs of models whose rank span is below the CD
    cliques = []
    for i in range(k):
        j = i
        while j + 1 < k and values[j + 1] - values[i] < cd:
            j += 1
        if j > i and not any(a <= i and j <= b for a, b in cliques):
            cliques.append((i, j))
    # Both axes in inches, so that long model names and many models always fit.
    axis_length = max(4.0, 0.45 * (k - 1))
    label_width = 0.4 + 0.075 * max(len(n) + 7 for n in names)
    width = axis_length + 2 * label_width
    top = 1.0
    first_label = top + 0.3 + 0.1 * len(cliques)
    height = first_label + 0.28 * half + 0.1

    def x(rank):
        return label_width + (rank - 1) * axis_length / max(k - 1, 1)

    figure = Figure(figsize=(width, height))
    axis = figure.add_axes([0.0, 0.0, 1.0, 1.0])
    axis.set_xlim(0, width)
    axis.set_ylim(height, 0)
    axis.axis("off")
    axis.text(width / 2, 0.1, title, ha="center", va="top", fontsize="medium")
    axis.hlines(top, x(1), x(k), color="black", linewidth=1)
    for r in range(1, k + 1):
        axis.vlines(x(r), top - 0.08, top, color="black", linewidth=1)
        axis.text(x(r), top - 0.12, str(r), ha="center", va="bottom", fontsize="small")
    axis.hlines(0.6, x(1), x(1 + cd), color="black", linewidth=1.5)
    axis.text(x(1 + cd / 2), 0.55, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize="small")
    for i, (name, value) in enumerate(zip(names, values)):
        if i < half:  # best half: labels on the left
            y = first_label + 0.28 * i
            axis.vlines(x(value), top, y, color="black", linewidth=0.8)
            axis.hlines(y, label_width - 0.1, x(value), color="black", linewidth=0.8)
            axis.text(
                label_width - 0.15,
                y,
                f"{name} ({value:.2f})",
                ha="right",
                va="center",
                fontsize="small",
            )
        else:
            y = first_label + 0.28 * (k - 1 - i)
            axis.vlines(x(value), top, y, color="black", linewidth=0.8)
            axis.hlines(y, x(value), width - label_width + 0.1, color="black", linewidth=0.8)
            axis.text(
                width - label_width + 0.15,
                y,
                f"({value:.2f}) {name}",
                ha="left",
                va="center",
                fontsize="small",
            )
    for level, (i, j) in enumerate(cliques):
        y = top + 0.15 + 0.1 * level
        axis.hlines(y, x(values[i]) - 0.03, x(values[j]) + 0.03, color="tab:red", linewidth=3)
    figure.savefig(path, dpi=120)


def reliability_figure(panels, path):
    """Reliability diagrams: per confidence bin, the accuracy of the top-label prediction against
    its mean confidence (``panels``: (title, {label: calibration bins}) pairs)."""
    figure, axes = _panels(len(panels))
    for axis, (title, curves) in zip(axes, panels):
        axis.plot([0, 1], [0, 1], linestyle="--", color="gray", linewidth=0.8)
        for label, bins in curves.items():
            count = np.asarray(bins["count"], dtype=float)
            filled = count > 0
            confidence = np.asarray(bins["confidence"], dtype=float)[filled]
            accuracy = np.asarray(bins["accuracy"], dtype=float)[filled]
            (line,) = axis.plot(confidence, accuracy, linewidth=1.2, label=label)
            axis.scatter(
                confidence, accuracy, s=10 + 300 * count[filled] / count.sum(),
                color=line.get_color(), alpha=0.7,
            )
        axis.set_xlim(0, 1.02)
        axis.set_ylim(-0.02, 1.02)  # markers at accuracy 0 or 1 stay whole
        axis.set_xlabel("mean confidence of the top label")
        axis.set_ylabel("accuracy")
        axis.set_title(f"{title} (test part)")
        axis.legend(fontsize="small", loc="upper left")
    figure.savefig(path, dpi=120)
