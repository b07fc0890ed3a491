"""tlcourse.tools.plot: learning curves (live while training), confusion matrices, accuracy against label budget."""

import time

import matplotlib.pyplot as plt


def in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def curves(history, ax=None):
    """Training loss per logged step, and eval loss / accuracy per epoch when measured."""
    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
    else:
        fig = ax[0].figure
    loss_ax, metric_ax = ax
    for a in ax:
        a.clear()
    if history.steps:
        loss_ax.plot([s["step"] for s in history.steps], [s["loss"] for s in history.steps], label="train (step)")
    steps_per_epoch = history.steps[-1]["step"] / len(history.epochs) if history.steps and history.epochs else 1
    eval_epochs = [e for e in history.epochs if "eval_loss" in e]
    if eval_epochs:
        loss_ax.plot(
            [e["epoch"] * steps_per_epoch for e in eval_epochs],
            [e["eval_loss"] for e in eval_epochs],
            "o-",
            label="eval (epoch end)",
        )
    loss_ax.set(xlabel="step", ylabel="loss", title="loss")
    if loss_ax.get_legend_handles_labels()[0]:
        loss_ax.legend()
    accuracy = [e for e in history.epochs if "eval_accuracy" in e]
    if accuracy:
        metric_ax.plot([e["epoch"] for e in accuracy], [e["eval_accuracy"] for e in accuracy], "o-")
        metric_ax.set(xlabel="epoch", ylabel="eval accuracy", title="accuracy")
    else:  # nothing to draw: say why instead of showing an empty panel
        metric_ax.set_axis_off()
        metric_ax.text(
            0.5,
            0.5,
            "no accuracy measured:\npass eval_data to fit\nto draw it here",
            ha="center",
            va="center",
            transform=metric_ax.transAxes,
            color="0.4",
        )
    fig.tight_layout()
    return fig


class LivePlot:
    """Redraws the curves in place in Jupyter (at most every `every` seconds); headless: nothing until close."""

    def __init__(self, enabled=True, every=5.0, save_to=None):
        self.enabled, self.every, self.live = enabled, every, enabled and in_notebook()
        self.save_to = save_to
        self.handle, self.fig, self.drawn_at = None, None, 0.0

    def update(self, history, force=False):
        if not self.live or (not force and time.monotonic() - self.drawn_at < self.every):
            return
        from IPython.display import display

        if self.fig is None:
            self.fig, self.axes = plt.subplots(1, 2, figsize=(10, 3.2))
            plt.close(self.fig)  # shown through the display handle only, not again at cell end
        curves(history, self.axes)
        if self.handle is None:
            self.handle = display(self.fig, display_id=True)
        else:
            self.handle.update(self.fig)
        self.drawn_at = time.monotonic()

    def close(self, history):
        if not self.enabled:
            return
        if self.live:
            self.update(history, force=True)
        elif history.epochs:  # headless: one static plot at the end, saved where the checkpoints go
            fig = curves(history)
            if self.save_to:
                fig.savefig(self.save_to, dpi=100)
            plt.show()
            plt.close(fig)


def confusion_matrix(y_true, y_pred, names, ax=None, normalize="true"):
    from sklearn.metrics import ConfusionMatrixDisplay

    size = max(4, 0.5 * len(names) + 2)
    if ax is None:
        _, ax = plt.subplots(figsize=(size, size))
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        display_labels=names,
        normalize=normalize,
        ax=ax,
        xticks_rotation=90,
        values_format=".2f",
        colorbar=False,
    )
    ax.figure.tight_layout()
    return ax


def budget_curve(results, metric="accuracy", ax=None):
    """results: {method: {budget: value}}; budgets may include 'all' (drawn last)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    budgets = sorted({b for r in results.values() for b in r}, key=lambda b: float("inf") if b == "all" else b)
    position = {b: i for i, b in enumerate(budgets)}
    for method, points in results.items():
        keys = [b for b in budgets if b in points]
        ax.plot([position[b] for b in keys], [points[b] for b in keys], "o-", label=method)
    ax.set_xticks(range(len(budgets)), [str(b) for b in budgets])
    ax.set(xlabel="labelled examples per class", ylabel=metric)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax
